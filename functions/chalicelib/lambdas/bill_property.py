"""``bill_property``'s Handler in AWS. One property's postpaid bills, an async job of ``postpaid_bills``."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.bill_property)
