"""``gateway_presence``'s Handler in AWS. An IoT rule delivers the gateways' connect and disconnect events."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.gateway_presence)
