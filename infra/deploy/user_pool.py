"""The user pool's settings that the deployed pool (``template.py``) and the local
stand-in's pool (``local_aws/resources.py``) share, so the stand-in refuses what
Cognito refuses (its guard, ``local_aws/cognito_guard.py``, enforces the client's
flows and writable attributes, which moto alone ignores)."""

from __future__ import annotations

# Symbols required: issue 16 found the deployed policy without them.
PASSWORD_POLICY = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}
# No USER_PASSWORD_AUTH: the client id is public, and that flow would let anyone guess
# passwords past the portal's throttle. The portal signs in server-side
# (AdminInitiateAuth needs IAM credentials); API clients use SRP.
PORTAL_CLIENT_FLOWS = [
    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
    "ALLOW_USER_SRP_AUTH",
    "ALLOW_REFRESH_TOKEN_AUTH",
]
# Only an admin (the API) sets a user's company, role and e-mail: a user who could change
# their own e-mail could claim a future tenant's address. Not empty: Cognito reads an
# absent list as "every attribute".
WRITABLE_BY_USERS = ["locale"]
# What the ID token carries: ``email_verified`` too, since the app trusts ``email``
# only when it is verified (``auth/tokens.py``).
READABLE_BY_CLIENT = ["email", "email_verified", "custom:company_id", "custom:role"]
