"""Point the PynamoDB models at a table and region.

PynamoDB reads ``Meta`` when it first connects, so binding happens once at
start-up (the composition root passes its settings). The endpoint is left to
botocore's standard ``AWS_ENDPOINT_URL_DYNAMODB`` so AWS and the local stand-in run
the same code.
"""

from __future__ import annotations

from typing import Protocol

import botocore.session
from pynamodb.connection import Connection

from .models import ALL_ITEM_CLASSES, PowerletItem
from .wire import Credentials, DynamoWire, MissingCredentialsError, endpoint_url


class TableLocation(Protocol):
    """Where the table is: the functions' settings, or anything with these two."""

    @property
    def table_name(self) -> str: ...

    @property
    def region(self) -> str: ...


def bind_models(location: TableLocation) -> None:
    PowerletItem.Meta.table_name = location.table_name
    PowerletItem.Meta.region = location.region  # type: ignore[attr-defined]
    # Each class caches its own connection on first use (a cached one would keep the
    # previous table or region), and each connection makes its own botocore session and
    # client: 12 clients in 9 sessions on a cold ingest (issue 19). Every item class is
    # in the one table with the one key schema, so all share the base class's
    # connection (``Model._connection``, which ``_get_connection`` keeps while the table
    # name matches): one session, one client, one connection pool.
    PowerletItem._connection = None
    shared = PowerletItem._get_connection()  # no I/O: the client is made on first call
    for cls in ALL_ITEM_CLASSES:
        cls._connection = shared


def new_connection(location: TableLocation) -> Connection:
    """The connection TransactWrite needs (it does not take a model's): the models' own,
    so transactions use the same client."""
    connection: Connection = PowerletItem._get_connection().connection
    return connection


def shared_session() -> botocore.session.Session:
    """The models' botocore session, for the other AWS clients (one credential chain and
    one loaded set of service models per container)."""
    session: botocore.session.Session = PowerletItem._get_connection().connection.session
    return session


_wire: DynamoWire | None = None


def shared_wire() -> DynamoWire:
    """The lean client of ingest's steady path (data/wire/client.py), at the table, region
    and endpoint the models are bound to: one per process, remade if they are rebound."""
    global _wire
    table = PowerletItem.Meta.table_name
    region: str = getattr(PowerletItem.Meta, "region", None) or "us-east-1"
    endpoint = endpoint_url(region)
    if _wire is None or (_wire.table, _wire.region, _wire.endpoint) != (table, region, endpoint):
        _wire = DynamoWire(table, region, endpoint, process_credentials)
    return _wire


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
