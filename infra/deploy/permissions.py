"""Least privilege: which AWS capabilities each function uses, and the IAM policy that follows.

The table below is the one hand-kept list in the stack: a capability per AWS
resource the function's code path touches (read from ``chalicelib/wiring/container.py``
and the handlers). ``tests/infra`` fails when a function exists in the app and
not here, or here and not in the app, and when an environment variable the code
reads is not classified in ``ENVIRONMENT``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .errors import InventoryError


class Capability(StrEnum):
    TABLE_READ = "table_read"
    TABLE_WRITE = "table_write"
    DEAD_LETTERS = "dead_letters"
    SHADOWS = "shadows"
    EMAIL = "email"
    SMS = "sms"
    INVOKE_BILLING = "invoke_billing"
    INVOKE_RECONCILIATION = "invoke_reconciliation"
    USER_POOL = "user_pool"
    USER_ADMIN = "user_admin"
    BRAND_ASSETS = "brand_assets"
    GATEWAY_REGISTRATION = "gateway_registration"
    BRAND_DOMAINS = "brand_domains"


C = Capability
_TABLE = frozenset({C.TABLE_READ, C.TABLE_WRITE})
# The notifier records every alert in the table (dedup by alert id) before it mails or texts.
_NOTIFY = frozenset({C.EMAIL, C.SMS}) | _TABLE
# Every asynchronously invoked function has the dead-letter queue as its on-failure
# destination, and Lambda sends there with the function's own role.
_ASYNC = frozenset({C.DEAD_LETTERS})

FUNCTION_CAPABILITIES: dict[str, frozenset[Capability]] = {
    # Pages and JSON API: catalogue and ledger, top-ups and power switching
    # (meter_control -> shadows, notifier), brand logos, sign-in against the pool,
    # and the reseller API registering gateways (thing, certificate, policy).
    "api_handler": _NOTIFY
    | {
        C.SHADOWS,
        C.USER_POOL,
        C.USER_ADMIN,
        C.BRAND_ASSETS,
        C.GATEWAY_REGISTRATION,
        C.BRAND_DOMAINS,
    },
    # Verifies ID tokens against the pool's public JWKS: no AWS call at all.
    "token_authorizer": frozenset({C.USER_POOL}),
    # Reseller API keys: one consistent GetItem for the key, one for the reseller.
    "reseller_key_authorizer": frozenset({C.TABLE_READ}),
    "ingest_telemetry": _NOTIFY | _ASYNC | {C.SHADOWS},
    "relay_confirmation": _NOTIFY | _ASYNC | {C.SHADOWS},
    "gateway_presence": _NOTIFY | _ASYNC,
    # Bills a property; a bill it has to hold is an alert to staff (docs/pipeline.md).
    "bill_property": _NOTIFY | _ASYNC,
    # Fans out one async invocation of bill_property per property; reads only.
    "postpaid_bills": frozenset({C.TABLE_READ, C.INVOKE_BILLING}) | _ASYNC,
    # Fans out one async invocation of reconcile_company per company; reads only.
    "reconcile_balances": frozenset({C.TABLE_READ, C.INVOKE_RECONCILIATION}) | _ASYNC,
    # A bounded batch of a company's accounts; hands the rest on to itself.
    "reconcile_company": _NOTIFY | _ASYNC | {C.INVOKE_RECONCILIATION},
    "offline_sweep": _NOTIFY | _ASYNC,
    "relay_retry_sweep": _NOTIFY | _ASYNC | {C.SHADOWS},
    # Cognito's Custom Message trigger: reads the company's brand for invitations
    # and password-reset e-mails; Cognito itself sends them.
    "cognito_custom_message": frozenset({C.TABLE_READ}),
    # Fleet provisioning's pre-provisioning hook: one conditional UpdateItem per claim.
    "provisioning_hook": _TABLE,
    # An account changed in Cognito outside the portal (CloudTrail via EventBridge): find
    # the user in the pool and move their session epoch in each of their companies.
    "cognito_account_changes": _TABLE | _ASYNC | {C.USER_POOL, C.USER_ADMIN},
}

# dynamodb:Query on the table's indexes (gsi1, gsi2) rather than on the table itself:
# one IAM action, two resources, so each function says which it queries.
QUERY_INDEXES = "dynamodb:Query on indexes"
_READ = frozenset({"dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", QUERY_INDEXES})
_WRITE = frozenset({"dynamodb:PutItem", "dynamodb:UpdateItem"})
_MAIL = frozenset({"ses:SendEmail"})

# The IAM actions each function's code performs: its role grants these and nothing else
# (but its logs and, for asynchronous functions, the dead-letter queue). Measured, not
# guessed: tests/infra/test_least_privilege.py fails on a call missing here and, after a
# whole run of the functional and end-to-end tiers, on an action here that nothing used.
FUNCTION_ACTIONS: dict[str, frozenset[str]] = {
    "api_handler": _READ
    | _WRITE
    | _MAIL
    | {
        "dynamodb:DeleteItem",
        "iot:UpdateThingShadow",
        "s3:GetObject",
        "s3:PutObject",
        "cognito-idp:AdminCreateUser",
        "cognito-idp:AdminAddUserToGroup",
        "cognito-idp:AdminGetUser",
        "cognito-idp:AdminDeleteUser",
        "cognito-idp:AdminUserGlobalSignOut",
        "cognito-idp:AdminInitiateAuth",
        "cognito-idp:AdminRespondToAuthChallenge",
        "iot:CreateThing",
        "iot:DescribeThing",
        "iot:CreatePolicy",
        "iot:CreateThingGroup",
        "iot:AddThingToThingGroup",
        "iot:CreateKeysAndCertificate",
        "iot:AttachPolicy",
        "iot:AttachThingPrincipal",
        "iot:DescribeEndpoint",
        "greengrass:CreateDeployment",
        "acm:RequestCertificate",
        "acm:DescribeCertificate",
        "apigateway:GET",
        "apigateway:POST",
        # a dropped brand domain's mapping, custom domain and certificate
        "apigateway:DELETE",
        "acm:DeleteCertificate",
    },
    "token_authorizer": frozenset(),
    "reseller_key_authorizer": frozenset({"dynamodb:GetItem"}),
    "ingest_telemetry": _READ
    | _WRITE
    | _MAIL
    | {"dynamodb:BatchWriteItem", "iot:UpdateThingShadow", "sqs:SendMessage"},
    # Records the outcome; a failed relay is an alert to staff. It writes no shadow.
    # Both name an alert's subject (its unit and property) in one BatchGetItem.
    "relay_confirmation": _READ | _WRITE | _MAIL,
    "gateway_presence": _READ | _WRITE | _MAIL | {"sqs:SendMessage"},
    "bill_property": _READ | _WRITE | _MAIL,
    "postpaid_bills": frozenset({"dynamodb:Query", QUERY_INDEXES, "lambda:InvokeFunction"}),
    # Deployed it always fans out: it lists the companies (an index) and invokes one job each.
    "reconcile_balances": frozenset({QUERY_INDEXES, "lambda:InvokeFunction"}),
    "reconcile_company": (_READ - {"dynamodb:BatchGetItem"})
    | _WRITE
    | _MAIL
    | {"lambda:InvokeFunction"},
    "offline_sweep": (_READ - {"dynamodb:BatchGetItem"}) | _WRITE | _MAIL,
    "relay_retry_sweep": _READ | _WRITE | _MAIL | {"iot:UpdateThingShadow"},
    "cognito_custom_message": frozenset({"dynamodb:GetItem", "dynamodb:BatchGetItem"}),
    "provisioning_hook": frozenset({"dynamodb:UpdateItem"}),
    # The user's memberships (an index), one conditional UpdateItem each, a GetItem when
    # the condition refuses (gone, or already ended later); the user by the call's name.
    "cognito_account_changes": frozenset(
        {QUERY_INDEXES, "dynamodb:UpdateItem", "dynamodb:GetItem", "cognito-idp:AdminGetUser"}
    ),
}

# Every environment variable the function code reads (``ENV_*`` constants), classified.
# "resource": set from the stack, for functions holding the capability (None: all).
ENV_FROM_STACK: dict[str, Capability | None] = {
    "POWERLET_STAGE": None,
    "POWERLET_TABLE": C.TABLE_READ,
    "POWERLET_USER_POOL_ID": C.USER_POOL,
    "POWERLET_USER_POOL_CLIENT_ID": C.USER_POOL,
    "POWERLET_ASSETS_BUCKET": C.BRAND_ASSETS,
    "POWERLET_IOT_DATA_ENDPOINT": C.SHADOWS,
    "POWERLET_DEAD_LETTER_QUEUE_URL": C.DEAD_LETTERS,
    "POWERLET_SENDER_EMAIL": C.EMAIL,
    "POWERLET_BILL_PROPERTY_FUNCTION": C.INVOKE_BILLING,
    "POWERLET_RECONCILE_COMPANY_FUNCTION": C.INVOKE_RECONCILIATION,
    "POWERLET_GATEWAY_POLICY": C.GATEWAY_REGISTRATION,
    "POWERLET_COMPONENT_VERSION": C.GATEWAY_REGISTRATION,
}
# Left to their coded defaults in AWS (tuning knobs and local-only overrides).
ENV_DEFAULTED = frozenset(
    {
        "POWERLET_CATALOGUE_CACHE_S",
        "POWERLET_SETTLEMENT_PERIOD_H",
        "POWERLET_SESSION_LIFETIME_S",
        "POWERLET_RESELLER_RATE_PER_MINUTE",
        "POWERLET_IDEMPOTENCY_TTL_DAYS",
        # Secure cookies are the default; only the local stage may turn them off.
        "POWERLET_COOKIE_SECURE",
        # The build copies branding/ into chalicelib/branding, which is looked up first.
        "POWERLET_BRANDING_DIR",
        # The DNS-over-HTTPS resolver for custom-domain ownership checks (public, no role).
        "POWERLET_DNS_OVER_HTTPS_URL",
        # The local stack's stand-in API for brand domains; in AWS the request's own apiId.
        "POWERLET_REST_API_ID",
        # The ShadowManager version gateway deployments pin (the code's default is tested).
        "POWERLET_SHADOW_MANAGER_VERSION",
        # botocore's endpoint overrides, which the lean DynamoDB client honours too
        # (chalicelib/data/wire): the local stand-in sets them; in AWS, AWS's endpoints.
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_DYNAMODB",
    }
)
# Set by the Lambda runtime itself (reserved: a template may not set them). The role's
# credentials are read by the lean DynamoDB client (chalicelib/data/wire/signing.py).
ENV_FROM_RUNTIME = frozenset(
    {
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
    }
)
# Read by libraries, not by our code (Powertools' service name for logs and metrics).
ENV_FOR_LIBRARIES = frozenset({"POWERTOOLS_SERVICE_NAME"})

# Actions granted on "*", each with the reason and the Service Authorization Reference page
# that shows it (tests/infra: every "*" in a role is one of these, and the reference lists
# no resource type for any of them but sns:Publish).
_SAR = "https://docs.aws.amazon.com/service-authorization/latest/reference/"
UNSCOPED_ACTIONS: dict[str, str] = {
    "sns:Publish": "a text message to a phone number has no ARN; the Deny NoTopicOrEndpoint "
    "takes every topic and endpoint out of it " + _SAR + "list_amazonsns.html",
    "iot:CreateKeysAndCertificate": "no resource type " + _SAR + "list_awsiot.html",
    "iot:DescribeEndpoint": "no resource type " + _SAR + "list_awsiot.html",
    "greengrass:CreateDeployment": "no resource type " + _SAR + "list_awsiotgreengrassv2.html",
    "acm:RequestCertificate": "no resource type " + _SAR + "list_awscertificatemanager.html",
    "xray:PutTraceSegments": "no resource type " + _SAR + "list_awsx-ray.html",
    "xray:PutTelemetryRecords": "no resource type " + _SAR + "list_awsx-ray.html",
}


def check_classified(env_names: set[str]) -> None:
    known = set(ENV_FROM_STACK) | ENV_DEFAULTED | ENV_FROM_RUNTIME
    unknown = env_names - known
    if unknown:
        raise InventoryError(
            f"environment variables read by the code but not classified in "
            f"deploy.permissions: {sorted(unknown)}"
        )


def capabilities_of(function_name: str) -> frozenset[Capability]:
    try:
        return FUNCTION_CAPABILITIES[function_name]
    except KeyError as exc:
        raise InventoryError(
            f"function {function_name!r} has no entry in deploy.permissions.FUNCTION_CAPABILITIES"
        ) from exc


def _sub(text: str) -> dict[str, Any]:
    return {"Fn::Sub": text}


def policy_document(function_name: str, stage: str) -> dict[str, Any]:
    """The function's whole IAM policy: logs of its own log group plus the actions its code
    performs (``FUNCTION_ACTIONS``), each on the narrowest resource IAM accepts for it."""
    caps = capabilities_of(function_name)
    actions = actions_of(function_name)
    log_group = f"/aws/lambda/{function_name_in_aws(stage, function_name)}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": _sub(
                "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:"
                + log_group
                + ":*"
            ),
        },
        # Active tracing (docs/runbook.md): the Lambda service sends the trace segments
        # with the execution role. Neither action has a resource type: "*" only.
        {
            "Sid": "Tracing",
            "Effect": "Allow",
            "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            "Resource": "*",
        },
    ]
    placed: set[str] = set()
    for grant in _grants(stage):
        if grant.capability not in caps:
            continue
        if grant.named is not None:
            chosen = list(grant.actions) if grant.named in actions else []
            placed.update([grant.named] if chosen else [])
        elif grant.always:
            chosen = list(grant.actions)
        else:
            chosen = [a for a in grant.actions if a in actions]
        placed.update(chosen)
        if chosen:
            statements.append(
                {
                    "Sid": grant.sid,
                    "Effect": grant.effect,
                    "Action": chosen,
                    "Resource": grant.resources,
                }
            )
    unplaced = actions - placed
    if unplaced:
        raise InventoryError(
            f"{function_name} performs {sorted(unplaced)}, which no capability of it grants "
            "(deploy.permissions: add the capability or the grant)"
        )
    return {"Version": "2012-10-17", "Statement": statements}


def actions_of(function_name: str) -> frozenset[str]:
    try:
        return FUNCTION_ACTIONS[function_name]
    except KeyError as exc:
        raise InventoryError(
            f"function {function_name!r} has no entry in deploy.permissions.FUNCTION_ACTIONS"
        ) from exc


@dataclass(frozen=True)
class _Grant:
    """One statement: the actions a capability may grant, on what. A function's statement
    holds only the actions its code performs; ``always`` ones are used by AWS for it."""

    capability: Capability
    sid: str
    actions: tuple[str, ...]
    resources: Any
    always: bool = False
    effect: str = "Allow"
    # Granted whole when the function's actions name it (one action on two resources).
    named: str | None = None


def _grants(stage: str) -> list[_Grant]:
    from chalicelib.application.gateway_deployments import GATEWAY_GROUP_PREFIX
    from chalicelib.application.gateway_policy import policy_name
    from chalicelib.application.reseller.gateways import THING_GROUP_PREFIX

    table_arn = {"Fn::GetAtt": ["PowerletTable", "Arn"]}
    things = [_iot(f"thing/{gateway_thing_prefix()}*")]
    return [
        # No Scan: nothing in a request path or a schedule scans the table.
        _Grant(
            C.TABLE_READ,
            "TableRead",
            ("dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query"),
            [table_arn],
        ),
        _Grant(
            C.TABLE_WRITE,
            "TableWrite",
            (
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
                "dynamodb:ConditionCheckItem",
            ),
            [table_arn],
        ),
        _Grant(
            C.TABLE_READ,
            "TableIndexes",
            ("dynamodb:Query",),
            [_sub("${PowerletTable.Arn}/index/*")],
            named=QUERY_INDEXES,
        ),
        # Lambda sends a failed asynchronous invocation there with the function's role.
        _Grant(
            C.DEAD_LETTERS,
            "DeadLetters",
            ("sqs:SendMessage",),
            [{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}],
            always=True,
        ),
        # Any gateway's thing (the cloud drives every building); IAM names a named
        # shadow by its thing, so the thing-name prefix is the narrowest.
        _Grant(C.SHADOWS, "MeterShadows", ("iot:GetThingShadow", "iot:UpdateThingShadow"), things),
        # Each brand mails from its own verified address (docs/brands.md), so any
        # verified identity of this account and region, and no other.
        _Grant(
            C.EMAIL,
            "AlertEmail",
            ("ses:SendEmail",),
            [_sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*")],
        ),
        # A text message to a phone number has no ARN, so only "*" grants it; the Deny
        # below takes every topic and platform endpoint (all have sns ARNs) out of it.
        _Grant(C.SMS, "AlertSms", ("sns:Publish",), "*", always=True),
        _Grant(
            C.SMS,
            "NoTopicOrEndpoint",
            ("sns:Publish",),
            [_sub("arn:${AWS::Partition}:sns:*:*:*")],
            always=True,
            effect="Deny",
        ),
        _Grant(
            C.INVOKE_BILLING,
            "BillingFanOut",
            ("lambda:InvokeFunction",),
            [{"Fn::GetAtt": ["BillProperty", "Arn"]}],
        ),
        _Grant(
            C.INVOKE_RECONCILIATION,
            "ReconciliationFanOut",
            ("lambda:InvokeFunction",),
            # By name (fixed per stage): reconcile_company's own role names it too, and a
            # GetAtt of the function in its own role would be a cycle.
            [
                _sub(
                    "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
                    + function_name_in_aws(stage, "reconcile_company")
                )
            ],
        ),
        _Grant(
            C.BRAND_ASSETS,
            "BrandAssets",
            ("s3:GetObject", "s3:PutObject"),
            [_sub("${BrandAssetsBucket.Arn}/*")],
        ),
        # Company onboarding and tenant logins: invite, place in the role's group, look up,
        # and remove a user; a user's sign-out everywhere; the portal's server-side
        # sign-in (no public password flow); in this stack's pool only.
        _Grant(
            C.USER_ADMIN,
            "UserAdministration",
            (
                "cognito-idp:AdminCreateUser",
                "cognito-idp:AdminAddUserToGroup",
                "cognito-idp:AdminGetUser",
                "cognito-idp:AdminDeleteUser",
                "cognito-idp:AdminUserGlobalSignOut",
                "cognito-idp:AdminInitiateAuth",
                "cognito-idp:AdminRespondToAuthChallenge",
            ),
            [{"Fn::GetAtt": ["UserPool", "Arn"]}],
        ),
        # Gateway registration (reseller API): the thing, its company's group, membership.
        _Grant(
            C.GATEWAY_REGISTRATION,
            "GatewayThings",
            ("iot:CreateThing", "iot:DescribeThing", "iot:AddThingToThingGroup"),
            things,
        ),
        # Each gateway's own policy (its thing name written out: docs/deploy.md).
        _Grant(
            C.GATEWAY_REGISTRATION,
            "CreateEachGatewaysOwnPolicy",
            ("iot:CreatePolicy",),
            [_iot("policy/" + policy_name(stage, "") + "*")],
        ),
        # The company's group, and each gateway's own (its deployment's target).
        _Grant(
            C.GATEWAY_REGISTRATION,
            "GatewayThingGroups",
            ("iot:CreateThingGroup", "iot:AddThingToThingGroup"),
            [
                _iot(f"thinggroup/{THING_GROUP_PREFIX}*"),
                _iot(f"thinggroup/{GATEWAY_GROUP_PREFIX}*"),
            ],
        ),
        # Each gateway's Greengrass deployment (docs/deploy.md). CreateDeployment has no
        # resource type in the reference: "*" is the only form IAM accepts.
        _Grant(
            C.GATEWAY_REGISTRATION,
            "GatewayDeployments",
            ("greengrass:CreateDeployment",),
            "*",
        ),
        # The reference's dependent actions of CreateDeployment: Greengrass makes the
        # deployment's IoT job and reads the targets with the caller's permissions
        # ("Authorize AWS IoT Greengrass to create deployments"), so the role holds them,
        # on the gateways' groups, things and jobs only; our code calls none of them.
        _Grant(
            C.GATEWAY_REGISTRATION,
            "DeploymentJobs",
            (
                "iot:CreateJob",
                "iot:DescribeJob",
                "iot:UpdateJob",
                "iot:CancelJob",
                "iot:DescribeThingGroup",
                "iot:DescribeThing",
                "iot:GetThingShadow",
                "iot:UpdateThingShadow",
                "iot:DeleteThingShadow",
            ),
            [_iot("job/*"), _iot(f"thinggroup/{GATEWAY_GROUP_PREFIX}*"), *things],
            always=True,
        ),
        # AttachPolicy and AttachThingPrincipal are authorised on the certificate (the
        # Service Authorization Reference lists cert as their resource type, not the thing
        # or the policy); its id exists only once CreateKeysAndCertificate answers.
        _Grant(
            C.GATEWAY_REGISTRATION,
            "GatewayCertificates",
            ("iot:AttachPolicy", "iot:AttachThingPrincipal"),
            [_iot("cert/*")],
        ),
        # Neither has a resource type in the reference: "*" is the only form IAM accepts.
        _Grant(
            C.GATEWAY_REGISTRATION,
            "NewCertificateAndEndpoint",
            ("iot:CreateKeysAndCertificate", "iot:DescribeEndpoint"),
            "*",
        ),
        *_domain_grants(),
    ]


def _domain_grants() -> list[_Grant]:
    """A verified brand domain served by the API (application/custom_domains.py)."""
    apigateway = "arn:${AWS::Partition}:apigateway:${AWS::Region}::/domainnames"
    return [
        # RequestCertificate has no resource type in the reference: "*" only.
        _Grant(C.BRAND_DOMAINS, "DomainCertificates", ("acm:RequestCertificate",), "*"),
        _Grant(
            C.BRAND_DOMAINS,
            "DomainCertificateStatus",
            ("acm:DescribeCertificate",),
            [_sub("arn:${AWS::Partition}:acm:${AWS::Region}:${AWS::AccountId}:certificate/*")],
        ),
        # API Gateway's management API is authorised by HTTP verb on the resource path:
        # create a domain name, look one up, map it to the stage; nothing else.
        _Grant(
            C.BRAND_DOMAINS,
            "CustomDomainNames",
            ("apigateway:POST",),
            [_sub(apigateway), _sub(apigateway + "/*/basepathmappings")],
        ),
        _Grant(
            C.BRAND_DOMAINS,
            "CustomDomainLookup",
            ("apigateway:GET",),
            [_sub(apigateway + "/*")],
        ),
        # A dropped domain: its base-path mappings and custom domain name, then its
        # certificate (application/custom_domains.py, release). A brand's host can be any
        # name, so no narrower path than the domain names exists.
        _Grant(
            C.BRAND_DOMAINS,
            "DroppedDomainNames",
            ("apigateway:DELETE",),
            [_sub(apigateway + "/*")],
        ),
        _Grant(
            C.BRAND_DOMAINS,
            "DroppedDomainCertificates",
            ("acm:DeleteCertificate",),
            [_sub("arn:${AWS::Partition}:acm:${AWS::Region}:${AWS::AccountId}:certificate/*")],
        ),
    ]


def _iot(suffix: str) -> dict[str, Any]:
    return _sub("arn:${AWS::Partition}:iot:${AWS::Region}:${AWS::AccountId}:" + suffix)


def gateway_thing_prefix() -> str:
    """What every gateway's thing name starts with, from the code that names them."""
    from chalicelib.application.reseller.gateways import thing_name_for

    prefix = thing_name_for("\x00", "\x01").split("\x00")[0]
    if not prefix:
        raise InventoryError("gateway thing names have no fixed prefix to scope IAM by")
    return prefix


def function_name_in_aws(stage: str, function_name: str) -> str:
    """Fixed, so each role can name its own log group without a dependency cycle."""
    return f"powerlet-{stage}-{function_name}"


def environment_of(function_name: str, stage: str) -> dict[str, Any]:
    caps = capabilities_of(function_name)
    values: dict[str, Any] = {
        "POWERLET_STAGE": stage,
        "POWERLET_TABLE": {"Ref": "PowerletTable"},
        "POWERLET_USER_POOL_ID": {"Ref": "UserPool"},
        "POWERLET_USER_POOL_CLIENT_ID": {"Ref": "PortalClient"},
        "POWERLET_ASSETS_BUCKET": {"Ref": "BrandAssetsBucket"},
        # The account's own endpoint when given (describe-endpoint iot:Data-ATS), else the
        # regional ATS name that serves every account over SigV4.
        "POWERLET_IOT_DATA_ENDPOINT": {
            "Fn::If": [
                "HasIotDataEndpoint",
                {"Ref": "IotDataEndpoint"},
                _sub("https://data-ats.iot.${AWS::Region}.amazonaws.com"),
            ]
        },
        "POWERLET_DEAD_LETTER_QUEUE_URL": {"Ref": "DeadLetterQueue"},
        "POWERLET_SENDER_EMAIL": {"Ref": "SenderEmail"},
        "POWERLET_BILL_PROPERTY_FUNCTION": {"Ref": "BillProperty"},
        # The name, not a Ref: the function hands work on to itself, and a Ref to itself
        # in its own environment would be a cycle.
        "POWERLET_RECONCILE_COMPANY_FUNCTION": function_name_in_aws(stage, "reconcile_company"),
        "POWERLET_GATEWAY_POLICY": {"Ref": "GatewayPolicy"},
        "POWERLET_COMPONENT_VERSION": {"Fn::GetAtt": ["MeterGatewayComponent", "ComponentVersion"]},
    }
    env = {"POWERTOOLS_SERVICE_NAME": "powerlet"}
    for name, needed in ENV_FROM_STACK.items():
        if needed is None or needed in caps:
            env[name] = values[name]
    return env


# The only grants exempt from "granted but never used" (``deploy.least_privilege``), by
# statement id, each with the reason no test run can show it used.
UNMEASURED_GRANTS: dict[str, str] = {
    "OwnLogs": "used by AWS: the Lambda runtime writes the function's log stream with its "
    "execution role",
    "DeadLetters": "used by AWS: an asynchronous invocation's on-failure destination (the "
    "dead-letter queue) is sent to with the function's execution role",
    "Tracing": "used by AWS: with active tracing the Lambda service sends the function's "
    "trace segments with its execution role (inline, not the managed AWSXRayDaemonWriteAccess, "
    "so the role holds exactly these two actions and stays measurable)",
    "DeploymentJobs": "used by AWS: CreateDeployment's dependent actions (Service "
    "Authorization Reference), which Greengrass performs with the caller's permissions to "
    "create and manage the deployment's IoT job; the stand-in has no IoT jobs to measure",
    "AlertSms": "every notifying function shares the Notifier, which texts any member with a "
    "phone number; the tiers give phone numbers to a few cases only, so which functions are "
    "seen texting depends on the test data, not on the code",
}
