"""What CloudTrail would have sent EventBridge about the stand-in's Cognito calls.

In AWS, an account change made outside the portal (a console disable, an admin's
password reset, a user's own ``ChangePassword``) reaches ``cognito_account_changes`` as an
"AWS API Call via CloudTrail" event. moto has no CloudTrail, so the Cognito guard
records the same event shape here for each *successful* call the deployed rule matches
(``deploy/account_changes.py``), and serves them at ``/_powerlet/cloudtrail?after=N``.
A test plays EventBridge: it hands each new event to the function, so the function's
real path runs on the real shape. (``make run`` delivers none: there, a change made
in the stand-in's Cognito ends portal sessions through the pages' own recheck only.)

The shape follows the CloudTrail record (``eventVersion`` 1.08) inside EventBridge's
envelope: the admin calls name the user in ``requestParameters.username`` as the caller
gave it, the user's ``sub`` goes in ``additionalEventData``, and an access token is
never recorded (CloudTrail masks it).
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

CLOUDTRAIL_PATH = "/_powerlet/cloudtrail"
MASKED = "HIDDEN_DUE_TO_SECURITY_REASONS"
KEPT = 1000  # the newest events only: a long run must not grow without bound
ADMIN_CALLS = frozenset(
    {
        "AdminDisableUser",
        "AdminSetUserPassword",
        "AdminResetUserPassword",
        "AdminUserGlobalSignOut",
        "AdminDeleteUser",
    }
)
TOKEN_CALLS = frozenset({"ChangePassword", "GlobalSignOut"})
RECORDED_CALLS = ADMIN_CALLS | TOKEN_CALLS

_events: deque[tuple[int, dict[str, Any]]] = deque(maxlen=KEPT)
_lock = threading.Lock()
_count = 0


def user_of(operation: str, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The ``sub`` of the user the call is about and its pool's region, resolved before
    moto runs the call (a deleted user, or a signed-out access token, no longer resolves
    afterwards)."""
    from moto.cognitoidp.models import cognitoidp_backends

    for regions in cognitoidp_backends.values():
        for backend in regions.values():
            for pool in backend.user_pools.values():
                if operation in TOKEN_CALLS:
                    held = pool.access_tokens.get(str(body.get("AccessToken", "")))
                    username = held[1] if held else None
                elif pool.id == body.get("UserPoolId"):
                    username = str(body.get("Username", ""))
                else:
                    continue
                user = pool._get_user(username) if username else None
                if user is not None:
                    return str(user.id), str(pool.region)
    return None, None


def record(operation: str, body: dict[str, Any], user_sub: str | None, region: str) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID

    global _count
    now = datetime.now(UTC).replace(microsecond=0)
    params: dict[str, Any]
    if operation in ADMIN_CALLS:
        params = {"userPoolId": body.get("UserPoolId"), "username": body.get("Username")}
    else:
        params = {"accessToken": MASKED}
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.cognito-idp",
        "account": DEFAULT_ACCOUNT_ID,
        "time": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": {
            "eventVersion": "1.08",
            "eventTime": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": "cognito-idp.amazonaws.com",
            "eventName": operation,
            "awsRegion": region,
            "requestParameters": params,
            "responseElements": None,
            "additionalEventData": {"sub": user_sub} if user_sub else {},
            "requestID": str(uuid.uuid4()),
            "eventID": str(uuid.uuid4()),
            "readOnly": False,
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": DEFAULT_ACCOUNT_ID,
            "eventCategory": "Management",
        },
    }
    with _lock:
        _count += 1
        _events.append((_count, event))


def serve_events(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    try:
        after = int(query.get("after", ["0"])[0])
    except ValueError:
        after = 0
    with _lock:
        events = [event for n, event in _events if n > after]
        last = _count
    body = json.dumps({"events": events, "last": last}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]
