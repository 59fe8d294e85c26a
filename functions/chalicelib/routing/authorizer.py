"""The one custom authorizer, used in AWS and under ``chalice local`` alike.

Anonymous callers (no header) get 401 from API Gateway before this runs; a
token that fails verification gets an empty policy, hence 403.
"""

from __future__ import annotations

from chalice import AuthResponse, Blueprint
from chalice.app import AuthRequest

from ..auth.errors import InvalidTokenError
from ..auth.tokens import bearer_token
from .dependencies import deps

auth_bp = Blueprint(__name__)


@auth_bp.authorizer(name="token_authorizer")
def token_authorizer(auth_request: AuthRequest) -> AuthResponse:
    try:
        identity = deps().token_verifier.verify_id_token(bearer_token(auth_request.token))
    except InvalidTokenError:
        return AuthResponse(routes=[], principal_id="anonymous")
    return AuthResponse(
        routes=["*"],
        principal_id=identity.user_sub,
        context={
            "company_id": identity.company_id,
            "user_sub": identity.user_sub,
            "email": identity.email,
            "auth_time": str(identity.authenticated_at_s),
        },
    )
