"""Create, check and execute one CloudFormation change set.

A change set with nothing to change ends ``FAILED`` with a reason saying so
("The submitted information didn't contain changes..." or "No updates are to be
performed."): for a deploy that is success, not an error, so re-running ``make deploy``
on an unchanged tree passes.
"""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError, WaiterError

from .errors import ChangeSetError, DeployError
from .stack_state import first_failure

WAIT_DELAY_S = 10
WAIT_MAX_ATTEMPTS = 180  # 30 minutes: a first stack with a Cognito pool and IoT takes ~5
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")


def apply(
    cfn: Any,
    name: str,
    template_url: str,
    parameters: dict[str, str],
    *,
    create: bool,
    token: str,
    wait_delay_s: int = WAIT_DELAY_S,
) -> bool:
    """Apply the template to the stack; False when there was nothing to change."""
    # unique per attempt: a change set left by an interrupted run cannot collide
    change_set = f"{name}-{token}-{int(time.time())}"
    waiter_config = {"Delay": wait_delay_s, "MaxAttempts": WAIT_MAX_ATTEMPTS}
    try:
        cfn.create_change_set(
            StackName=name,
            ChangeSetName=change_set,
            ChangeSetType="CREATE" if create else "UPDATE",
            TemplateURL=template_url,
            Capabilities=CAPABILITIES,
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
        )
    except ClientError as exc:
        raise ChangeSetError(f"CloudFormation refused the change set for {name}: {exc}") from exc
    try:
        cfn.get_waiter("change_set_create_complete").wait(
            StackName=name, ChangeSetName=change_set, WaiterConfig=waiter_config
        )
    except WaiterError as exc:
        described = cfn.describe_change_set(StackName=name, ChangeSetName=change_set)
        reason = str(described.get("StatusReason", ""))
        if described.get("Status") == "FAILED" and any(m in reason for m in NO_CHANGES):
            cfn.delete_change_set(StackName=name, ChangeSetName=change_set)
            return False
        raise ChangeSetError(f"the change set for {name} failed: {reason or exc}") from exc
    try:
        cfn.execute_change_set(StackName=name, ChangeSetName=change_set)
        done = "stack_create_complete" if create else "stack_update_complete"
        cfn.get_waiter(done).wait(StackName=name, WaiterConfig=waiter_config)
    except (ClientError, WaiterError) as exc:
        raise DeployError(f"deploying {name} failed: {first_failure(cfn, name)}") from exc
    return True


def delete_stack(cfn: Any, name: str, wait_delay_s: int = WAIT_DELAY_S) -> None:
    try:
        cfn.delete_stack(StackName=name)
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": wait_delay_s, "MaxAttempts": WAIT_MAX_ATTEMPTS}
        )
    except (ClientError, WaiterError) as exc:
        raise DeployError(f"deleting the rolled-back {name} failed: {exc}") from exc
