"""The pre-provisioning hook of fleet provisioning: admit a device only as the gateway the
reseller registered for it.

Everyone holding the claim certificate (it is in every device image) can ask the
template for a certificate; the claim's parameters name the company, the gateway and the
one-time token the reseller API issued for that gateway. The hook admits the claim only
if that gateway is registered in that company, is not provisioned yet, and waits for
exactly that token, and marks it provisioned in the same conditional write, so a token
works once. The thing name is not a parameter: the template derives it from the company
and gateway ids (``senders.thing_name_for``), so an admitted claim cannot name another
gateway's thing.

Event and answer: AWS IoT's pre-provisioning hook payload (version 2020-04-01):
``{"claimCertificateId", "certificateId", "certificatePem", "templateArn", "clientId",
"parameters": {...}}`` -> ``{"allowProvisioning": bool}``
(https://docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..data.errors import ConditionFailedError
from ..data.provisioning_store import ProvisioningStore
from ..observability import logger
from .errors import InvalidProvisioningClaimError

# The template's parameters a device sends (Greengrass plugin: templateParameters).
COMPANY_PARAMETER = "CompanyId"
GATEWAY_PARAMETER = "GatewayId"
TOKEN_PARAMETER = "ProvisioningToken"  # noqa: S105 - a parameter name, not a secret
# The reseller API's id patterns (requests.py): the hook accepts nothing they would not.
_COMPANY_ID = re.compile(r"[a-z0-9][a-z0-9-]{1,30}[a-z0-9]")
_GATEWAY_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{32,128}")
_CERTIFICATE_ID = re.compile(r"[0-9a-f]{64}")
TOKEN_BYTES = 32


def new_token() -> str:
    """A one-time provisioning token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def token_sha256(token: str) -> str:
    """What the table keeps of a token: its SHA-256 (the token itself is shown once)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ProvisioningClaim:
    company_id: str
    gateway_id: str
    token: str
    certificate_id: str


def parse_claim(event: Any) -> ProvisioningClaim:
    if not isinstance(event, dict):
        raise InvalidProvisioningClaimError("the hook event is not an object")
    parameters = event.get("parameters")
    if not isinstance(parameters, dict):
        raise InvalidProvisioningClaimError("the claim has no parameters")
    fields = {
        COMPANY_PARAMETER: (parameters.get(COMPANY_PARAMETER), _COMPANY_ID),
        GATEWAY_PARAMETER: (parameters.get(GATEWAY_PARAMETER), _GATEWAY_ID),
        TOKEN_PARAMETER: (parameters.get(TOKEN_PARAMETER), _TOKEN),
        "certificateId": (event.get("certificateId"), _CERTIFICATE_ID),
    }
    for name, (value, pattern) in fields.items():
        if not isinstance(value, str) or pattern.fullmatch(value) is None:
            raise InvalidProvisioningClaimError(f"the claim's {name} is missing or malformed")
    return ProvisioningClaim(
        company_id=parameters[COMPANY_PARAMETER],
        gateway_id=parameters[GATEWAY_PARAMETER],
        token=parameters[TOKEN_PARAMETER],
        certificate_id=event["certificateId"],
    )


@dataclass(frozen=True)
class ProvisioningHook:
    _store: ProvisioningStore

    def handle(self, event: Any, now: datetime) -> dict[str, Any]:
        try:
            claim = parse_claim(event)
        except InvalidProvisioningClaimError as exc:
            logger.warning("fleet provisioning refused", reason=str(exc))
            return {"allowProvisioning": False}
        try:
            self._store.admit(
                claim.company_id,
                claim.gateway_id,
                token_sha256(claim.token),
                claim.certificate_id,
                now,
            )
        except ConditionFailedError:
            # Unregistered, another company's, already provisioned, or the wrong token:
            # one answer for all, so a caller learns nothing about which gateways exist.
            logger.warning(
                "fleet provisioning refused: no gateway waits for this token",
                company_id=claim.company_id,
                gateway_id=claim.gateway_id,
            )
            return {"allowProvisioning": False}
        logger.info(
            "fleet provisioning admitted",
            company_id=claim.company_id,
            gateway_id=claim.gateway_id,
        )
        return {"allowProvisioning": True}
