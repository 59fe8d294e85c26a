"""The bodies of move-in and move-out: one pydantic model each, shared by the JSON API
and the pages (a page turns its form into the same model)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt

from ..branding.schema import Email, PlainText
from .actions import IDEMPOTENCY_KEY, MAX_TOP_UP_MINOR

# A reading as typed: digits with at most 3 decimals (the energy scale), never a float.
KWH_TEXT = r"^[0-9]{1,9}([.][0-9]{1,3})?$"
ID_TEXT = r"^[A-Za-z0-9_.:@+=/-]{1,128}$"

Kwh = Annotated[str, Field(pattern=KWH_TEXT, max_length=13)]
ObjectId = Annotated[str, Field(pattern=ID_TEXT)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MoveInRequest(_Body):
    idempotency_key: str = Field(pattern=IDEMPOTENCY_KEY.pattern)
    starts_on: date
    tenant_email: Email
    tenant_name: PlainText = Field(min_length=1, max_length=100)
    locale: Literal["en", "zh_TW"] = "en"
    opening_kwh: Kwh | None = None  # default: the meter's latest stored reading
    never_disconnect: StrictBool = False
    opening_credit_minor: StrictInt = Field(default=0, ge=0, le=MAX_TOP_UP_MINOR)
    # Staff confirm that the address's existing tenant login is this same person (a
    # tenant moving between units); without it an existing login is never linked.
    link_existing_login: StrictBool = False


class MoveOutRequest(_Body):
    tenancy_id: ObjectId  # the tenancy meant: a retry after completion finds it, not a new one
    ends_on: date
    disposition: Literal["refund", "transfer"]
    final_kwh: Kwh | None = None  # default: the meter's latest stored reading
    transfer_to_unit_id: ObjectId | None = None
    dry_run: StrictBool = False  # compute and show the settlement, write nothing
