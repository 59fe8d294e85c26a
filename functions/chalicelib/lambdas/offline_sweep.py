"""``offline_sweep``'s Handler in AWS. The 5-minute offline sweep."""

from ..wiring import handlers
from . import on_schedule

handler = on_schedule(handlers.offline_sweep)
