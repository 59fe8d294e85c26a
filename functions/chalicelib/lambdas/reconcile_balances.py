"""``reconcile_balances``'s Handler in AWS. The daily reconciliation schedule."""

from ..wiring import handlers
from . import on_schedule

handler = on_schedule(handlers.reconcile)
