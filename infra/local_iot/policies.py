"""The IoT policies the local device endpoint enforces: the documents the stack and the
API attach in AWS (``deploy.iot_policy``), resolved for the local account and region.

A certificate the local CA issues for thing ``T`` carries the stack's shared gateway
policy and ``T``'s own policy (``chalicelib.application.gateway_policy``), as the reseller
API attaches them at registration; ``iot:Connection.Thing.IsAttached`` then decides,
exactly as there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chalicelib.application.gateway_policy import gateway_policy_document
from deploy import iot_policy
from deploy.policy_check import Account, resolve

from .pki import Identity
from .policy_gate import PolicySource
from .settings import DEFAULT_REGION, LOCAL_ACCOUNT_ID


def local_account(region: str = DEFAULT_REGION) -> Account:
    return Account(region=region, account_id=LOCAL_ACCOUNT_ID)


def shared_gateway_policy(region: str = DEFAULT_REGION, stage: str = "local") -> dict[str, Any]:
    account = local_account(region)
    refs = {
        f"{iot_policy.ROLE_ALIAS_LOGICAL_ID}.RoleAliasArn": account.iot_arn(
            f"rolealias/powerlet-{stage}-greengrass-token-exchange"
        )
    }
    return dict(resolve(iot_policy.shared_policy_document(), account, refs))


def own_gateway_policy(thing_name: str, region: str = DEFAULT_REGION) -> dict[str, Any]:
    account = local_account(region)
    return gateway_policy_document(thing_name, account.partition, region, account.account_id)


def deployed_policies(region: str = DEFAULT_REGION, stage: str = "local") -> PolicySource:
    shared = shared_gateway_policy(region, stage)

    def attached_to(identity: Identity) -> Sequence[dict[str, Any]]:
        return [shared, own_gateway_policy(identity.common_name, region)]

    return attached_to
