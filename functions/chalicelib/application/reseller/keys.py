"""Whether a reseller API key may call: the key verifies and its reseller is active."""

from __future__ import annotations

from dataclasses import dataclass

from ...data.catalogue import Catalogue
from ...data.errors import NotFoundError
from ...data.reseller_store import ApiKeyStore, VerifiedKey, split_key

ACTIVE = "active"


@dataclass(frozen=True)
class ResellerKeys:
    _keys: ApiKeyStore
    _catalogue: Catalogue

    @staticmethod
    def is_key_shaped(raw_key: str) -> bool:
        """``plr_<key id>_<secret>``: a guess worth counting (anything else is refused
        without a read, so it costs nothing to refuse)."""
        return split_key(raw_key) is not None

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
