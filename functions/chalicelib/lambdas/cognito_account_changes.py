"""``cognito_account_changes``'s Handler in AWS. The EventBridge rule on Cognito's
CloudTrail events (account changes made outside the portal end its sessions)."""

from ..wiring import handlers
from . import on_event

handler = on_event(handlers.cognito_account_changes)
