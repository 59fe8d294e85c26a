"""Whether a reseller API key may call: the key verifies and its reseller is active."""

from __future__ import annotations

from dataclasses import dataclass

from ...data.catalogue import Catalogue
from ...data.errors import NotFoundError
from ...data.reseller_store import ApiKeyStore, VerifiedKey

ACTIVE = "active"


@dataclass(frozen=True)
class ResellerKeys:
    _keys: ApiKeyStore
    _catalogue: Catalogue

    def verify(self, raw_key: str) -> VerifiedKey | None:
        """The key, or None: not a key, wrong secret, revoked, or its reseller is not active."""
        verified = self._keys.verify(raw_key)
        if verified is None:
            return None
        try:
            reseller = self._catalogue.get_reseller(verified.reseller_id)
        except NotFoundError:
            return None
        return verified if reseller.status == ACTIVE else None
