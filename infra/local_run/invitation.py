"""Let a login invited on the local stack in: the e-mail Cognito would send.

On AWS, a company admin created through the reseller API (or a tenant at move-in) gets
Cognito's invitation e-mail with a temporary password. The local stand-in sends no
e-mail and never shows the password it made, so this sets a new temporary one (not a
permanent one): the first sign-in then goes through the same "choose a new password"
step (``NEW_PASSWORD_REQUIRED``) as on AWS.

    make invitation EMAIL=admin@acme.example
    python -m local_run.invitation admin@acme.example [TEMPORARY-PASSWORD]
"""

from __future__ import annotations

import secrets
import sys
from typing import Any

from .signin import ENV_FILE

# Meets the pool's policy (upper, lower, digit, symbol, length) whatever the random part.
PREFIX = "Invited-1"


def new_temporary_password() -> str:
    return f"{PREFIX}-{secrets.token_urlsafe(9)}"


def reissue(cognito: Any, user_pool_id: str, email: str, password: str | None = None) -> str:
    """Give the invited login a temporary password; returns it. The login must exist
    (``UserNotFoundException`` otherwise) and keeps its attributes, groups and sub."""
    temporary = password or new_temporary_password()
    cognito.admin_set_user_password(
        UserPoolId=user_pool_id, Username=email, Password=temporary, Permanent=False
    )
    return temporary


def main(argv: list[str]) -> int:
    if not argv or argv[0].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    if not ENV_FILE.exists():
        print(f"{ENV_FILE} not found: start the local stack first (make run)", file=sys.stderr)
        return 2
    env = dict(line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    cognito = _cognito(env)
    try:
        temporary = reissue(cognito, env["POWERLET_USER_POOL_ID"], argv[0], *argv[1:2])
    except cognito.exceptions.UserNotFoundException:
        print(f"no login {argv[0]!r} in the local user pool", file=sys.stderr)
        return 1
    print(
        f"Temporary password of {argv[0]}: {temporary}\n"
        "Sign in at the company's sign-in screen (/b/<brand slug>/signin, or /signin) and "
        "choose a new password when asked."
    )
    return 0


def _cognito(env: dict[str, str]) -> Any:
    import boto3

    return boto3.client(
        "cognito-idp",
        region_name=env["AWS_REGION"],
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
