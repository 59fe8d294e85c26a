"""A company admin invited through the reseller API gets in on the local stack: the
local tool stands in for Cognito's invitation e-mail (``make invitation EMAIL=...``),
and the first sign-in asks for a new password exactly as on AWS."""

from __future__ import annotations

import re

import boto3
import pytest
from chalice.test import Client

from local_aws.stack import LocalStack
from local_run.invitation import reissue
from tests.functional.portal.browser_client import Browser, text

from .conftest import ResellerApi
from .test_reseller_api import company_body

pytestmark = pytest.mark.functional

CO = "invited-homes"
EMAIL = f"admin@{CO}.example"


def hidden_fields(html: str) -> dict[str, str]:
    return dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', html))


def test_an_invited_admin_signs_in_locally_and_chooses_a_password(
    client: Client, reseller_api: ResellerApi, standin: LocalStack
) -> None:
    assert standin.resources is not None
    # GIVEN a company onboarded by a reseller: its admin is invited, password unknown
    made = reseller_api.call("POST", "/v1/reseller/companies", company_body(CO), "co-invited")
    assert made.status_code == 201, made.body
    # WHEN the local tool hands out the temporary password the e-mail would have carried
    cognito = boto3.client("cognito-idp")
    temporary = reissue(cognito, standin.resources.user_pool_id, EMAIL)
    # THEN the admin signs in on the brand's screen with it and is asked for a new one
    browser = Browser(client)
    challenge = browser.sign_in(EMAIL, temporary, screen=f"/b/{CO}/signin")
    assert challenge.status_code == 200 and 'name="challenge"' in text(challenge)
    chosen = {**hidden_fields(text(challenge)), "new_password": "Chosen-admin-pass-7"}
    done = browser.post("/signin/new-password", chosen)
    assert done.status_code == 303, text(done)
    # AND the portal opens as that company's admin, in its brand
    html = text(browser.get(done.headers["location"]))
    assert "Invited Homes" in html and "Formosa" not in html


def test_the_tool_refuses_a_login_that_does_not_exist(standin: LocalStack) -> None:
    assert standin.resources is not None
    cognito = boto3.client("cognito-idp")
    with pytest.raises(cognito.exceptions.UserNotFoundException):
        reissue(cognito, standin.resources.user_pool_id, "nobody@nowhere.example")
