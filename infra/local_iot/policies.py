"""The IoT policies the local device endpoint enforces: the documents the stack deploys
(``deploy.iot_policy``), resolved for the local account and region.

Every certificate the local CA issues for a thing has the gateway policy attached, as the
API and fleet provisioning attach it in AWS; its ``iot:Connection.Thing.IsAttached``
condition and thing variables then decide, exactly as there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from deploy import iot_policy
from deploy.policy_check import Account, resolve

from .pki import Identity
from .policy_gate import PolicySource
from .settings import DEFAULT_REGION, LOCAL_ACCOUNT_ID


def local_account(region: str = DEFAULT_REGION) -> Account:
    return Account(region=region, account_id=LOCAL_ACCOUNT_ID)


def deployed_gateway_policy(region: str = DEFAULT_REGION, stage: str = "local") -> dict[str, Any]:
    account = local_account(region)
    refs = {
        f"{iot_policy.ROLE_ALIAS_LOGICAL_ID}.RoleAliasArn": account.iot_arn(
            f"rolealias/powerlet-{stage}-greengrass-token-exchange"
        )
    }
    return dict(resolve(iot_policy.gateway_policy_document(), account, refs))


def deployed_policies(region: str = DEFAULT_REGION, stage: str = "local") -> PolicySource:
    gateway = deployed_gateway_policy(region, stage)

    def attached_to(_identity: Identity) -> Sequence[dict[str, Any]]:
        return [gateway]

    return attached_to
