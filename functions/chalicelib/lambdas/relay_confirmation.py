"""``relay_confirmation``'s Handler in AWS. An IoT rule delivers a gateway's relay confirmations."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.relay_confirmation)
