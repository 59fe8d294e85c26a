"""The lean client against the stand-in with IAM enforced (moto's access-control mode,
/work/shared/FACTS.md): its signatures are accepted, a wrong secret is refused with a
clear error, a role's temporary credentials (session token) sign too, and an action
the role is not granted is refused as AccessRefusedError."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from chalicelib.data.wire import (
    AccessRefusedError,
    ConditionalCheckFailedError,
    Credentials,
    DynamoWire,
)
from local_aws.processes import die_with_parent
from local_aws.stack import free_port

REGION = "ap-northeast-1"
TABLE = "wire-access"
# The requests made before IAM is enforced: the user, its key, its policy, the role, the
# role's policy, the table. Every later request is authenticated and authorised.
FREE_REQUESTS = 6
ROOT = Path(__file__).resolve().parents[3]


def _wait_listening(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert server.poll() is None, f"the stand-in exited with {server.returncode}"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"the stand-in did not listen on {port}")


@dataclass(frozen=True)
class IamStandIn:
    endpoint: str
    user: Credentials
    role: Credentials


def _policy(actions: list[str], resource: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
        }
    )


@pytest.fixture(scope="module")
def iam_standin() -> Iterator[IamStandIn]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "INITIAL_NO_AUTH_ACTION_COUNT": str(FREE_REQUESTS),
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("functions", "infra", ".")),
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "local_aws", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=die_with_parent,
    )
    try:
        _wait_listening(port, server)
        plain = {
            "endpoint_url": endpoint,
            "region_name": REGION,
            "aws_access_key_id": "setup",
            "aws_secret_access_key": "setup",
        }
        iam = boto3.client("iam", **plain)
        user_arn = iam.create_user(UserName="ingest-test")["User"]["Arn"]
        key = iam.create_access_key(UserName="ingest-test")["AccessKey"]
        iam.put_user_policy(
            UserName="ingest-test",
            PolicyName="wire",
            PolicyDocument=_policy(
                ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem", "sts:AssumeRole"],
                "*",
            ),
        )
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": user_arn},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role_arn = iam.create_role(RoleName="ingest", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
        # ingest's actions on the table (infra/deploy/permissions.py), not GetItem. On "*":
        # moto authorises DynamoDB calls by action only, so a table ARN would match nothing.
        iam.put_role_policy(
            RoleName="ingest",
            PolicyName="table",
            PolicyDocument=_policy(
                ["dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem"], "*"
            ),
        )
        boto3.client("dynamodb", **plain).create_table(
            TableName=TABLE,
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        user = Credentials(key["AccessKeyId"], key["SecretAccessKey"])
        sts = boto3.client(
            "sts",
            endpoint_url=endpoint,
            region_name=REGION,
            aws_access_key_id=user.access_key_id,
            aws_secret_access_key=user.secret_access_key,
        )
        assumed = sts.assume_role(RoleArn=role_arn, RoleSessionName="ingest")["Credentials"]
        role = Credentials(
            assumed["AccessKeyId"], assumed["SecretAccessKey"], assumed["SessionToken"]
        )
        yield IamStandIn(endpoint, user, role)
    finally:
        server.terminate()
        server.wait(timeout=10)


def _wire(standin: IamStandIn, credentials: Credentials) -> DynamoWire:
    return DynamoWire(TABLE, REGION, standin.endpoint, credentials, sleep=lambda s: None)


def _put(wire: DynamoWire, sk: str) -> None:
    wire.put_item(
        {
            "TableName": TABLE,
            "Item": {"pk": {"S": "p"}, "sk": {"S": sk}, "v": {"N": "1"}},
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "pk"},
        }
    )


def _query(wire: DynamoWire) -> list[str]:
    answer = wire.query(
        {
            "TableName": TABLE,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "pk"},
            "ExpressionAttributeValues": {":pk": {"S": "p"}},
            "ConsistentRead": True,
        }
    )
    return [item["sk"]["S"] for item in answer["Items"]]


def test_the_clients_signature_is_accepted_where_iam_is_enforced(iam_standin: IamStandIn) -> None:
    wire = _wire(iam_standin, iam_standin.user)
    _put(wire, "a")
    assert _query(wire) == ["a"]


def test_a_wrong_secret_is_refused_with_what_aws_said(iam_standin: IamStandIn) -> None:
    wrong = Credentials(iam_standin.user.access_key_id, "not-the-secret")

    with pytest.raises(AccessRefusedError) as raised:
        _query(_wire(iam_standin, wrong))

    assert raised.value.status in {400, 403}
    assert raised.value.aws_type and "Signature" in raised.value.aws_type
    assert raised.value.aws_message
    assert raised.value.aws_type in str(raised.value)


def test_a_roles_session_credentials_sign_and_its_grants_apply(iam_standin: IamStandIn) -> None:
    wire = _wire(iam_standin, iam_standin.role)
    _put(wire, "b")
    assert "b" in _query(wire)

    # a second put of the same item fails its condition: its own failure mode
    with pytest.raises(ConditionalCheckFailedError) as failed:
        _put(wire, "b")
    assert failed.value.aws_type == "ConditionalCheckFailedException"

    # GetItem is not granted to the role
    with pytest.raises(AccessRefusedError) as refused:
        wire.get_item({"TableName": TABLE, "Key": {"pk": {"S": "p"}, "sk": {"S": "b"}}})
    assert refused.value.status in {400, 403}
    assert "GetItem" in str(refused.value)
