"""Where the stage's stack stands before a deploy, and what a failed first create left.

CloudFormation cannot update a stack whose first create rolled back (``ROLLBACK_COMPLETE``):
it must be deleted first ("Troubleshooting CloudFormation": *delete the stack and create it
again*). A production stage's table, user pool, bucket and log groups carry
``DeletionPolicy: Retain`` with fixed names, so the rollback leaves them behind
(``DELETE_SKIPPED``) and the next create fails on "already exists". A resource that a
failed create made holds nothing anyone needs unless someone used the half-made stage: the
deploy deletes the empty ones and refuses, naming them, when one holds data.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from local_aws.dynamodb_guard import allow_maintenance_scans

from .errors import DeployError, LeftoverResourceError, StackStateError

Clients = Callable[[str], Any]  # service name -> boto3 client


class StackState(enum.Enum):
    ABSENT = "absent"  # create it (also a stack only reviewed, never executed)
    UPDATABLE = "updatable"
    ROLLED_BACK_CREATE = "rolled back create"  # delete, clear leftovers, create
    BUSY = "busy"  # an operation is running: wait for it
    BROKEN = "broken"  # needs a person (ROLLBACK_FAILED, DELETE_FAILED, ...)


_UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


def classify(status: str | None) -> StackState:
    if status is None or status in {"REVIEW_IN_PROGRESS", "DELETE_COMPLETE"}:
        return StackState.ABSENT
    if status in _UPDATABLE:
        return StackState.UPDATABLE
    if status == "ROLLBACK_COMPLETE":
        return StackState.ROLLED_BACK_CREATE
    if status.endswith("_IN_PROGRESS"):
        return StackState.BUSY
    return StackState.BROKEN


def stack_status(cfn: Any, name: str) -> str | None:
    """The stack's status, or None when there is no such stack (any other error is raised)."""
    try:
        stacks = cfn.describe_stacks(StackName=name)["Stacks"]
    except ClientError as exc:
        if "does not exist" in str(exc.response["Error"].get("Message", "")):
            return None
        raise DeployError(f"cannot read the stack {name}: {exc}") from exc
    return str(stacks[0]["StackStatus"]) if stacks else None


def state_of(cfn: Any, name: str) -> StackState:
    status = stack_status(cfn, name)
    state = classify(status)
    if state is StackState.BUSY:
        raise StackStateError(f"{name} is {status}: wait for it to finish, then deploy again")
    if state is StackState.BROKEN:
        raise StackStateError(
            f"{name} is {status}: CloudFormation needs a person here (continue the rollback "
            "or delete the stack in the console); see docs/runbook.md"
        )
    return state


def first_failure(cfn: Any, name: str) -> str:
    """The reason of the earliest failed resource: why the create rolled back."""
    events: list[dict[str, Any]] = []
    for page in cfn.get_paginator("describe_stack_events").paginate(StackName=name):
        events.extend(page["StackEvents"])
    failed = [e for e in events if str(e.get("ResourceStatus", "")).endswith("_FAILED")]
    if not failed:
        return "no failed resource recorded"
    earliest = min(failed, key=lambda e: e["Timestamp"])
    return f"{earliest['LogicalResourceId']}: {earliest.get('ResourceStatusReason', '')}"


@dataclass(frozen=True)
class Leftover:
    logical_id: str
    resource_type: str
    physical_id: str


def leftovers(cfn: Any, name: str) -> list[Leftover]:
    """Resources the rollback kept (``DELETE_SKIPPED``): they would block the next create."""
    found = []
    for page in cfn.get_paginator("list_stack_resources").paginate(StackName=name):
        for r in page["StackResourceSummaries"]:
            if r.get("ResourceStatus") == "DELETE_SKIPPED" and r.get("PhysicalResourceId"):
                found.append(
                    Leftover(r["LogicalResourceId"], r["ResourceType"], r["PhysicalResourceId"])
                )
    return found


def _table_is_empty(clients: Clients, table: str) -> bool:
    # One item is enough to know; the table's ItemCount lags by hours. A deploy tool's
    # Scan, marked as maintenance for the stand-in's and the tests' no-Scan guards.
    ddb = clients("dynamodb")
    allow_maintenance_scans(ddb)
    items = ddb.scan(TableName=table, Limit=1, Select="COUNT")
    return int(items["Count"]) == 0 and "LastEvaluatedKey" not in items


def _delete_table(clients: Clients, table: str) -> None:
    ddb = clients("dynamodb")
    ddb.update_table(TableName=table, DeletionProtectionEnabled=False)
    ddb.delete_table(TableName=table)


def _pool_is_empty(clients: Clients, pool: str) -> bool:
    return not clients("cognito-idp").list_users(UserPoolId=pool, Limit=1)["Users"]


def _delete_pool(clients: Clients, pool: str) -> None:
    idp = clients("cognito-idp")
    idp.update_user_pool(UserPoolId=pool, DeletionProtection="INACTIVE")
    idp.delete_user_pool(UserPoolId=pool)


def _bucket_is_empty(clients: Clients, bucket: str) -> bool:
    s3 = clients("s3")
    return not s3.list_object_versions(Bucket=bucket, MaxKeys=1).get(
        "Versions"
    ) and not s3.list_objects_v2(Bucket=bucket, MaxKeys=1).get("Contents")


def _delete_bucket(clients: Clients, bucket: str) -> None:
    clients("s3").delete_bucket(Bucket=bucket)


def _always_empty(_clients: Clients, _name: str) -> bool:
    # the logs of a failed create: its reason is printed from the stack events first
    return True


def _delete_log_group(clients: Clients, group: str) -> None:
    clients("logs").delete_log_group(logGroupName=group)


# resource type -> (is it empty?, delete it)
_CLEARABLE: dict[str, tuple[Callable[[Clients, str], bool], Callable[[Clients, str], None]]] = {
    "AWS::DynamoDB::Table": (_table_is_empty, _delete_table),
    "AWS::Cognito::UserPool": (_pool_is_empty, _delete_pool),
    "AWS::S3::Bucket": (_bucket_is_empty, _delete_bucket),
    "AWS::Logs::LogGroup": (_always_empty, _delete_log_group),
}


def check_clearable(clients: Clients, found: list[Leftover]) -> None:
    """Refuse, before anything is changed, when a leftover holds data or is of a kind the
    deploy does not know how to judge."""
    blocking = []
    for left in found:
        kind = _CLEARABLE.get(left.resource_type)
        if kind is None:
            blocking.append(f"{left.physical_id} ({left.resource_type}: not cleared by deploy)")
            continue
        is_empty, _ = kind
        try:
            if not is_empty(clients, left.physical_id):
                blocking.append(f"{left.physical_id} ({left.resource_type} holds data)")
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code not in {"ResourceNotFoundException", "NoSuchBucket", "404"}:
                raise DeployError(f"cannot inspect {left.physical_id}: {exc}") from exc
    if blocking:
        raise LeftoverResourceError(
            "the failed first create left resources that would block the next one and that "
            f"the deploy will not delete: {', '.join(blocking)}. Delete them (or import them "
            "into the stack) by hand; docs/runbook.md"
        )


def clear(clients: Clients, found: list[Leftover]) -> list[str]:
    """Delete the (checked, empty) leftovers; returns what was deleted."""
    deleted = []
    for left in found:
        _, delete = _CLEARABLE[left.resource_type]
        try:
            delete(clients, left.physical_id)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if code in {"ResourceNotFoundException", "NoSuchBucket", "404"}:
                continue  # already gone
            raise DeployError(f"cannot delete {left.physical_id}: {exc}") from exc
        deleted.append(left.physical_id)
    return deleted
