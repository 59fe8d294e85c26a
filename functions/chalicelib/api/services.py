"""Everything a handler needs, built once per Lambda container from Settings.

Tests and tools replace it with ``set_services`` (every AWS-facing piece is
injectable); handlers only ever call ``services()``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from ..auth.tokens import TokenVerifier
from ..data.binding import bind_models, new_connection
from ..data.catalogue import Catalogue
from ..data.ledger_store import LedgerStore
from ..settings import Settings, get_settings


@dataclass
class Services:
    settings: Settings

    def __post_init__(self) -> None:
        bind_models(self.settings)

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue()

    @cached_property
    def ledger(self) -> LedgerStore:
        return LedgerStore(new_connection(self.settings))

    @cached_property
    def token_verifier(self) -> TokenVerifier:
        if not (self.settings.user_pool_id and self.settings.user_pool_client_id):
            raise RuntimeError("POWERLET_USER_POOL_ID and POWERLET_USER_POOL_CLIENT_ID are not set")
        return TokenVerifier(
            self.settings.region, self.settings.user_pool_id, self.settings.user_pool_client_id
        )


_services: Services | None = None


def services() -> Services:
    global _services
    if _services is None:
        _services = Services(get_settings())
    return _services


def set_services(value: Services | None) -> None:
    global _services
    _services = value
