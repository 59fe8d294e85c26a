"""Creating a login in the user pool with Cognito's e-mail invitation.

``AdminCreateUser`` sends the temporary password (branded by the pool's Custom
Message trigger, ``application/invitation_messages.py``); the user chooses a password at the
first sign-in. The company and role go into the custom attributes the authorizer
reads, and the role into its group. Used for a company's first admin (reseller
onboarding) and for a tenant at move-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .attributes import COMPANY_ATTRIBUTE, ROLE_ATTRIBUTE

USERNAME_EXISTS = "UsernameExistsException"


def invite_login(
    cognito: Any,
    user_pool_id: str | None,
    email: str,
    company_id: str,
    role: str,
    extra: Mapping[str, str] | None = None,
) -> str:
    """Create and invite the login; returns its ``sub``. A login that already exists
    raises botocore's ClientError with code ``USERNAME_EXISTS``, left to the caller."""
    attributes = {
        "email": email,
        "email_verified": "true",
        **(extra or {}),
        COMPANY_ATTRIBUTE: company_id,
        ROLE_ATTRIBUTE: role,
    }
    answer = cognito.admin_create_user(
        UserPoolId=user_pool_id,
        Username=email,
        DesiredDeliveryMediums=["EMAIL"],
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
    )
    cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=email, GroupName=role)
    return str(next(a["Value"] for a in answer["User"]["Attributes"] if a["Name"] == "sub"))
