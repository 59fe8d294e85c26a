"""The user pool refuses what the product relies on it refusing (issue 16: "the public
app client allows USER_PASSWORD_AUTH, so callers can skip the app's throttle"; the
deployed pool had no threat protection, no MFA and no symbols in its password policy).
The local stand-in's guard refuses the same as Cognito, so these run against it."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from deploy.template import identity_resources
from local_aws.stack import LocalStack

from .accounts import PASSWORD, new_login

pytestmark = pytest.mark.functional


def test_the_public_client_has_no_password_flow(standin: LocalStack) -> None:
    assert standin.resources is not None
    email = new_login(standin)
    cognito = boto3.client("cognito-idp")
    # WHEN someone with the public client id guesses passwords straight at Cognito
    with pytest.raises(ClientError) as refused:
        cognito.initiate_auth(
            ClientId=standin.resources.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
        )
    # THEN Cognito refuses the flow: the portal's throttle cannot be skipped
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "not enabled for this client" in refused.value.response["Error"]["Message"]
    # AND the server-side flow (IAM credentials) is the one that works
    answer = cognito.admin_initiate_auth(
        UserPoolId=standin.resources.user_pool_id,
        ClientId=standin.resources.user_pool_client_id,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD},
    )
    assert answer["AuthenticationResult"]["IdToken"]


def test_a_password_without_a_symbol_is_refused(standin: LocalStack) -> None:
    assert standin.resources is not None
    email = new_login(standin)
    with pytest.raises(ClientError) as refused:
        boto3.client("cognito-idp").admin_set_user_password(
            UserPoolId=standin.resources.user_pool_id,
            Username=email,
            Password="NoSymbolsHere2026",
            Permanent=True,
        )
    assert refused.value.response["Error"]["Code"] == "InvalidPasswordException"


def test_the_deployed_pool_protects_its_users() -> None:
    resources = identity_resources("prod")
    pool = resources["UserPool"]["Properties"]
    client = resources["PortalClient"]["Properties"]
    assert pool["Policies"]["PasswordPolicy"]["RequireSymbols"] is True
    assert pool["UserPoolAddOns"] == {"AdvancedSecurityMode": "ENFORCED"}
    assert pool["UserPoolTier"] == "PLUS"  # threat protection needs the Plus plan
    assert (pool["MfaConfiguration"], pool["EnabledMfas"]) == ("OPTIONAL", ["SOFTWARE_TOKEN_MFA"])
    assert pool["UserAttributeUpdateSettings"] == {
        "AttributesRequireVerificationBeforeUpdate": ["email"]
    }
    assert "ALLOW_USER_PASSWORD_AUTH" not in client["ExplicitAuthFlows"]
    assert "email" not in client["WriteAttributes"]
    assert "email_verified" in client["ReadAttributes"]
