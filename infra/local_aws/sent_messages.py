"""What the stand-in "sent": e-mails (SES) and SMS (SNS), served at ``/_powerlet/sent``.

moto records every message it accepts but offers no API to list SMS; this view
reads moto's own records in the server process, so tests and ``make run``
can show what a tenant would have received without any fake sender in the code.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

SENT_PATH = "/_powerlet/sent"


def serve_sent(start_response: Callable[..., Any]) -> list[bytes]:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends
    from moto.sns.models import sns_backends

    emails: list[dict[str, Any]] = []
    for region_backends in ses_backends.values():
        for backend in region_backends.values():
            for message in getattr(backend, "sent_messages", []):
                emails.append(
                    {
                        "source": getattr(message, "source", None),
                        "to": list(getattr(message, "destinations", {}).get("ToAddresses", [])),
                        "subject": getattr(message, "subject", None),
                        "body": getattr(message, "body", None),
                    }
                )
    sms: list[dict[str, str]] = []
    for region, sns in sns_backends.get(DEFAULT_ACCOUNT_ID, {}).items():
        for message_id, (phone, text) in sns.sms_messages.items():
            sms.append({"id": message_id, "region": region, "phone": phone, "message": text})
    body = json.dumps({"emails": emails, "sms": sms}, default=str).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
