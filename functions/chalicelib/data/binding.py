"""Point the PynamoDB models at a table and region.

PynamoDB reads ``Meta`` when it first connects, so binding happens once at
start-up (the composition root passes its settings). The endpoint is left to
botocore's standard ``AWS_ENDPOINT_URL_DYNAMODB`` so AWS and the local stand-in run
the same code.
"""

from __future__ import annotations

from typing import Protocol

from pynamodb.connection import Connection

from .models import ALL_ITEM_CLASSES, PowerletItem


class TableLocation(Protocol):
    """Where the table is: the functions' settings, or anything with these two."""

    @property
    def table_name(self) -> str: ...

    @property
    def region(self) -> str: ...


def bind_models(location: TableLocation) -> None:
    PowerletItem.Meta.table_name = location.table_name
    PowerletItem.Meta.region = location.region  # type: ignore[attr-defined]
    # Each class caches its own connection on first use; a cached one would keep
    # the previous table or region.
    for cls in (PowerletItem, *ALL_ITEM_CLASSES):
        cls._connection = None  # type: ignore[attr-defined]


def new_connection(location: TableLocation) -> Connection:
    """The connection TransactWrite needs (it does not take a model's)."""
    return Connection(region=location.region)
