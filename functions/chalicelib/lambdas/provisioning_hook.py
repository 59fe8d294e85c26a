"""``provisioning_hook``'s Handler in AWS. Fleet provisioning's pre-provisioning hook."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.provisioning_hook)
