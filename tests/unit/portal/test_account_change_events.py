"""Reading CloudTrail's record of a Cognito call (``application/account_changes.py``): who
changed, when, and which records change nothing."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.application.account_changes import (
    MASKED,
    WATCHED_CALLS,
    InvalidAccountEventError,
    parse_account_change,
)


def _event(**detail: Any) -> dict[str, Any]:
    base = {
        "eventTime": "2026-12-06T10:00:07Z",
        "eventSource": "cognito-idp.amazonaws.com",
        "eventName": "AdminDisableUser",
        "requestParameters": {"userPoolId": "ap-northeast-1_pool", "username": "a@b.example"},
        "additionalEventData": {"sub": "sub-1"},
    }
    return {"detail-type": "AWS API Call via CloudTrail", "detail": base | detail}


def test_the_change_is_dated_to_the_end_of_its_second_fail_closed() -> None:
    change = parse_account_change(_event())
    assert change is not None
    # 10:00:07 UTC; a session or token of that very second is refused too
    assert change.at_ms == 1796551208000
    assert (change.username, change.user_sub, change.user_pool_id) == (
        "a@b.example",
        "sub-1",
        "ap-northeast-1_pool",
    )


def test_a_masked_username_or_token_call_falls_back_to_the_sub() -> None:
    masked = parse_account_change(_event(requestParameters={"username": MASKED}))
    assert masked is not None and masked.username is None and masked.user_sub == "sub-1"
    token_call = parse_account_change(
        _event(eventName="ChangePassword", requestParameters={"accessToken": MASKED})
    )
    assert token_call is not None and token_call.username is None


@pytest.mark.parametrize(
    "detail",
    [
        {"errorCode": "NotAuthorizedException"},  # a refused call changed nothing
        {"eventName": "AdminEnableUser"},
        {"eventSource": "s3.amazonaws.com"},
    ],
)
def test_records_that_change_nothing_are_ignored(detail: dict[str, Any]) -> None:
    assert parse_account_change(_event(**detail)) is None


def test_every_watched_call_is_read() -> None:
    for call in WATCHED_CALLS:
        change = parse_account_change(_event(eventName=call))
        assert change is not None and change.call == call


@pytest.mark.parametrize(
    "event",
    [
        None,
        {"detail-type": "AWS API Call via CloudTrail"},
        _event(eventTime="yesterday"),
        _event(eventTime="2026-12-06T10:00:07"),
    ],
)
def test_a_malformed_event_is_refused_with_the_reason(event: Any) -> None:
    with pytest.raises(InvalidAccountEventError):
        parse_account_change(event)
