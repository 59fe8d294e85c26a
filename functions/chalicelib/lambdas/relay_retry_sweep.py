"""``relay_retry_sweep``'s Handler in AWS. The 1-minute relay retry sweep."""

from ..wiring import handlers
from . import on_schedule

handler = on_schedule(handlers.relay_retry_sweep)
