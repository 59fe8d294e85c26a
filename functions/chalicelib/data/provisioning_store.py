"""A gateway's fleet-provisioning state in its table item: the one-time token's hash
while it waits for its device, the certificate once the device came."""

from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import UpdateError

from . import keys
from .conditions import conditional_check_failed
from .errors import ConditionFailedError
from .models import Gateway


class ProvisioningStore:
    def admit(
        self,
        company_id: str,
        gateway_id: str,
        token_sha256: str,
        certificate_id: str,
        now: datetime,
    ) -> None:
        """Mark the gateway provisioned with ``certificate_id``, once: only while it is
        registered, not provisioned and waiting for exactly this token (one conditional
        write, so two claims racing with the same token cannot both pass).
        ConditionFailedError otherwise."""
        item = Gateway(keys.company_pk(company_id), keys.gateway_sk(gateway_id))
        try:
            item.update(
                actions=[
                    Gateway.provisioned_at.set(now),
                    Gateway.certificate_id.set(certificate_id),
                    Gateway.provisioning_token_sha256.remove(),
                ],
                condition=Gateway.pk.exists()
                & Gateway.provisioned_at.does_not_exist()
                & (Gateway.provisioning_token_sha256 == token_sha256),
            )
        except UpdateError as exc:
            if conditional_check_failed(exc):
                raise ConditionFailedError("no gateway waits for this token") from exc
            raise
