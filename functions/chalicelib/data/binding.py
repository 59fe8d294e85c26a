"""Point the PynamoDB models at a table and region.

PynamoDB reads ``Meta`` when it first connects, so binding happens once at
start-up (the composition root passes its settings). The endpoint is left to
botocore's standard ``AWS_ENDPOINT_URL_DYNAMODB`` so AWS and the local stand-in run
the same code.

Binding imports nothing of PynamoDB or botocore: ingest's steady path goes through the
lean client (data/wire) and holds rows (data/rows.py), so a cold container whose message
is steady never loads them (issue 19, ~45 % of the entry's import). The location is kept
here and put on the models when they are imported (``models_imported``, at the end of
models.py) or at once if they are; the connection the stores share is made on first use.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, Protocol, cast

from .lazy import loaded
from .wire import Credentials, DynamoWire, MissingCredentialsError, endpoint_url

if TYPE_CHECKING:
    import botocore.session
    from pynamodb.connection import Connection

    from .models import PowerletItem

_MODELS = "chalicelib.data.models"
UNBOUND_TABLE = "powerlet-unbound"  # models.py's, until bound


class TableLocation(Protocol):
    """Where the table is: the functions' settings, or anything with these two."""

    @property
    def table_name(self) -> str: ...

    @property
    def region(self) -> str: ...


# The table and region the composition root bound (None: never bound).
_bound: tuple[str, str] | None = None


def bind_models(location: TableLocation) -> None:
    """Bind the models to ``location``: now if they are imported, else when they are."""
    global _bound
    _bound = (location.table_name, location.region)
    if loaded(_MODELS):
        models = sys.modules[_MODELS]
        _apply(models.PowerletItem, models.ALL_ITEM_CLASSES)


def models_imported(base: type[PowerletItem], classes: tuple[type[PowerletItem], ...]) -> None:
    """models.py's last line: put the bound location (if any) on the models."""
    if _bound is not None:
        _apply(base, classes)


def _apply(base: type[PowerletItem], classes: tuple[type[PowerletItem], ...]) -> None:
    assert _bound is not None
    base.Meta.table_name, base.Meta.region = _bound  # type: ignore[attr-defined]
    # Each class caches its own connection on first use (a cached one would keep the
    # previous table or region), and each connection makes its own botocore session and
    # client: 12 clients in 9 sessions on a cold ingest (issue 19). Every item class is
    # in the one table with the one key schema, so all share the base class's
    # connection (``Model._connection``, which ``_get_connection`` keeps while the table
    # name matches): one session, one client, one connection pool.
    base._connection = None
    shared = base._get_connection()  # no I/O: the client is made on first call
    for cls in classes:
        cls._connection = shared


def _models_base() -> type[PowerletItem]:
    """The models' base class, imported (and so bound) now: a PynamoDB path runs."""
    from .models import PowerletItem

    return PowerletItem


class _ConnectionOnFirstUse:
    """The models' connection, fetched when first used: the stores hold it from the
    container's start, but only their PynamoDB paths (settling, catalogue edits) use it."""

    def __getattr__(self, name: str) -> Any:
        return getattr(_models_base()._get_connection().connection, name)


def new_connection(location: TableLocation) -> Connection:
    """The connection TransactWrite needs (it does not take a model's): the models' own,
    so transactions use the same client. Made on first use (``_ConnectionOnFirstUse``)."""
    return cast("Connection", _ConnectionOnFirstUse())


def shared_session() -> botocore.session.Session:
    """The models' botocore session, for the other AWS clients (one credential chain and
    one loaded set of service models per container)."""
    session: botocore.session.Session = _models_base()._get_connection().connection.session
    return session


_wire: DynamoWire | None = None


def shared_wire() -> DynamoWire:
    """The lean client of ingest's steady path (data/wire/client.py), at the table, region
    and endpoint the models are bound to: one per process, remade if they are rebound."""
    global _wire
    table, region = _location()
    endpoint = endpoint_url(region)
    if _wire is None or (_wire.table, _wire.region, _wire.endpoint) != (table, region, endpoint):
        _wire = DynamoWire(table, region, endpoint, process_credentials)
    return _wire


def _location() -> tuple[str, str]:
    """Where the models are bound: their ``Meta`` if they are imported (a test or tool may
    set it), else the location bound and not yet put on them."""
    if loaded(_MODELS):
        meta = sys.modules[_MODELS].PowerletItem.Meta
        return meta.table_name, getattr(meta, "region", None) or "us-east-1"
    return _bound or (UNBOUND_TABLE, "us-east-1")


def process_credentials() -> Credentials:
    """The variables Lambda sets for the function's role (read per request: ~1 us, and a
    test or tool that changes them is obeyed as botocore would); without them, botocore's
    chain (a profile, an instance role) that the models' session uses."""
    try:
        return Credentials.from_env()
    except MissingCredentialsError:
        found = shared_session().get_credentials()
        if found is None:
            raise
        frozen = found.get_frozen_credentials()
        return Credentials(frozen.access_key, frozen.secret_key, frozen.token)
