"""``cognito_custom_message``'s Handler in AWS. The user pool's Custom Message trigger."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.cognito_custom_message)
