"""``postpaid_bills``'s Handler in AWS. The daily postpaid billing schedule."""

from ..wiring import handlers
from . import on_schedule

handler = on_schedule(handlers.postpaid_bills)
