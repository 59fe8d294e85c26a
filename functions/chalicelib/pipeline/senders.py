"""Which gateway an MQTT client speaks for (pure: no AWS).

A gateway's MQTT client id is its thing name. The Greengrass nucleus opens a
further connection whenever one holds 50 subscriptions, and names it
``<thingName>#2``, ``#3``, ... ("the lowest unused number"; the first one is
plain ``<thingName>``), and it publishes over any of them: each is that gateway
(docs/iot-contracts.md, "Who sent it"). Thing names never hold ``#`` (AWS IoT
allows ``[a-zA-Z0-9:_-]``), so the split at ``#`` cannot be ambiguous.
"""

from __future__ import annotations

import re

from .errors import ForeignSenderError, MissingClientIdError

THING_NAME_PREFIX = "pl-"
# clientid() of a message that did not come over MQTT (an HTTPS publish, say).
NOT_MQTT = "n/a"
# One connection per 50 subscriptions: 99 is far above what a bus needs. No leading
# zeros: "#02" is not a name the nucleus makes.
MAX_CONNECTION_NUMBER = 99
_CONNECTION_NUMBER = re.compile(r"[1-9][0-9]?")
# Between the company and the gateway id: a character neither id may hold (both are
# [a-z0-9-], the reseller API's patterns) and a thing name may (AWS: [a-zA-Z0-9:_-]), so
# (company, gateway) -> thing name is one-to-one: "a-b"+"c" and "a"+"b-c" cannot meet.
OWNER_SEPARATOR = "_"
# thing_name_for's shape: the company id (3..32) and the gateway id (2..40) of the
# reseller API. A cheap filter, not a proof: a match is still looked up.
_PRODUCT_THING = re.compile(
    r"pl-(?P<company>[a-z0-9][a-z0-9-]{1,30}[a-z0-9])_(?P<gateway>[a-z0-9][a-z0-9-]{0,38}[a-z0-9])"
)


def thing_name_for(company_id: str, gateway_id: str) -> str:
    """The thing (and MQTT client id) of a gateway the product registers."""
    if OWNER_SEPARATOR in company_id or OWNER_SEPARATOR in gateway_id:
        raise ValueError(f"ids hold no {OWNER_SEPARATOR!r}: {company_id!r}, {gateway_id!r}")
    # <= 76 chars: under IoT's 128
    return f"{THING_NAME_PREFIX}{company_id}{OWNER_SEPARATOR}{gateway_id}"


def owner_of_thing(name: str) -> tuple[str, str] | None:
    """(company id, gateway id) of a product thing name; None for any other name."""
    match = _PRODUCT_THING.fullmatch(name)
    return (match["company"], match["gateway"]) if match else None


def looks_like_thing_name(name: str) -> bool:
    return _PRODUCT_THING.fullmatch(name) is not None


def thing_of_client(client_id: str) -> str | None:
    """The thing a client id names: itself, or ``<thing>`` of ``<thing>#<n>``; None for a
    ``#`` suffix the nucleus never makes (``#``, ``#0``, ``#-1``, ``#01``, ``#100``)."""
    thing, hash_sign, number = client_id.partition("#")
    if not hash_sign:
        return client_id
    if not thing or _CONNECTION_NUMBER.fullmatch(number) is None:
        return None
    return thing


def is_extra_connection(client_id: str) -> bool:
    """``<thing>#<n>``: one of the nucleus's further connections, not its first."""
    return "#" in client_id and thing_of_client(client_id) is not None


def check_sender(client_id: object, thing_name: str) -> None:
    """Refuse a message whose MQTT client is not the gateway its topic names."""
    if not isinstance(client_id, str) or client_id in {"", NOT_MQTT}:
        raise MissingClientIdError(
            f"no MQTT client id (clientid() was {client_id!r}): "
            f"nothing shows that gateway {thing_name!r} sent it"
        )
    if thing_of_client(client_id) != thing_name:
        raise ForeignSenderError(
            f"client {client_id!r} is not gateway {thing_name!r}: only {thing_name!r} "
            f"or {thing_name!r}#<1..{MAX_CONNECTION_NUMBER}> may publish on its topic"
        )
