"""The alert sender must be an SES identity verified in the stack's region before a deploy.

SES sends only from a verified address or from an address of a verified domain ("Verified
identities in Amazon SES"); an unverified sender would deploy cleanly and fail on the
first alert. So the address is a required parameter and is checked first, before anything
is uploaded.
"""

from __future__ import annotations

import re
from typing import Any

from botocore.exceptions import ClientError

from .errors import DeployError, SenderNotVerifiedError

_ADDRESS = re.compile(r"^[^@\s]{1,64}@(?=.{1,253}$)[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")


def require_verified_sender(sesv2: Any, address: str | None, region: str) -> str:
    """The verified identity (the address or its domain) that lets ``address`` send."""
    if not address:
        raise SenderNotVerifiedError(
            "the sender address is required: make deploy SENDER_EMAIL=alerts@your-domain"
        )
    if not _ADDRESS.fullmatch(address):
        raise SenderNotVerifiedError(f"{address!r} is not an e-mail address")
    domain = address.rsplit("@", 1)[1].lower()
    for identity in (address, domain):
        try:
            found = sesv2.get_email_identity(EmailIdentity=identity)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "NotFoundException":
                continue
            raise DeployError(f"cannot read the SES identity {identity}: {exc}") from exc
        if found.get("VerifiedForSendingStatus"):
            return identity
    raise SenderNotVerifiedError(
        f"{address} is not verified for sending in SES in {region} (neither the address nor "
        f"{domain}). Verify it first: aws sesv2 create-email-identity --region {region} "
        f"--email-identity {address}, then follow the link SES mails, and deploy again"
    )
