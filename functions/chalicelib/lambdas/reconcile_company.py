"""``reconcile_company``'s Handler in AWS. One company's reconciliation batch, an async job of ``reconcile_balances``."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.reconcile_company)
