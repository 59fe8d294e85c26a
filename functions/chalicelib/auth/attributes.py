"""The user pool's custom attributes that carry a login's company and role: written at
invitation (``auth/invitations.py``), read from the verified ID token (``auth/tokens.py``)
and by the pool's Custom Message trigger."""

from __future__ import annotations

COMPANY_ATTRIBUTE = "custom:company_id"
ROLE_ATTRIBUTE = "custom:role"
