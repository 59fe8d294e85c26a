"""Point the PynamoDB models at a table and region.

PynamoDB reads ``Meta`` when it first connects, so binding happens once at
start-up from ``Settings``. The endpoint is left to botocore's standard
``AWS_ENDPOINT_URL_DYNAMODB`` so AWS and the local stand-in run the same code.
"""

from __future__ import annotations

from pynamodb.connection import Connection

from ..settings import Settings
from .models import ALL_ITEM_CLASSES, PowerletItem


def bind_models(settings: Settings) -> None:
    PowerletItem.Meta.table_name = settings.table_name
    PowerletItem.Meta.region = settings.region  # type: ignore[attr-defined]
    # Each class caches its own connection on first use; a cached one would keep
    # the previous table or region.
    for cls in (PowerletItem, *ALL_ITEM_CLASSES):
        cls._connection = None  # type: ignore[attr-defined]


def new_connection(settings: Settings) -> Connection:
    """The connection TransactWrite needs (it does not take a model's)."""
    return Connection(region=settings.region)
