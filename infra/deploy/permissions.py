"""Least privilege: which AWS capabilities each function uses, and the IAM policy that follows.

The table below is the one hand-kept list in the stack: a capability per AWS
resource the function's code path touches (read from ``chalicelib/wiring/container.py``
and the handlers). ``tests/infra`` fails when a function exists in the app and
not here, or here and not in the app, and when an environment variable the code
reads is not classified in ``ENVIRONMENT``.
"""

from __future__ import annotations

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
    USER_POOL = "user_pool"
    BRAND_ASSETS = "brand_assets"
    GATEWAY_REGISTRATION = "gateway_registration"


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
    "api_handler": _NOTIFY | {C.SHADOWS, C.USER_POOL, C.BRAND_ASSETS, C.GATEWAY_REGISTRATION},
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
    "reconcile_balances": _NOTIFY | _ASYNC,
    "offline_sweep": _NOTIFY | _ASYNC,
    "relay_retry_sweep": _NOTIFY | _ASYNC | {C.SHADOWS},
    # Cognito's Custom Message trigger: reads the company's brand for invitations
    # and password-reset e-mails; Cognito itself sends them.
    "cognito_custom_message": frozenset({C.TABLE_READ}),
    # Fleet provisioning's pre-provisioning hook: one conditional UpdateItem per claim.
    "provisioning_hook": _TABLE,
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
    "POWERLET_GATEWAY_POLICY": C.GATEWAY_REGISTRATION,
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
    }
)
# Set by the Lambda runtime itself (reserved: a template may not set them).
ENV_FROM_RUNTIME = frozenset({"AWS_REGION", "AWS_DEFAULT_REGION"})
# Read by libraries, not by our code (Powertools' service name for logs and metrics).
ENV_FOR_LIBRARIES = frozenset({"POWERTOOLS_SERVICE_NAME"})

# Actions IAM accepts only on "*": sns:Publish to a phone number (no ARN), and two
# IoT calls without resource-level permissions.
UNSCOPED_ACTIONS = frozenset(
    {"sns:Publish", "iot:CreateKeysAndCertificate", "iot:DescribeEndpoint"}
)


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
    """The function's whole IAM policy: logs of its own log group plus its capabilities."""
    caps = capabilities_of(function_name)
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
        }
    ]
    statements += [
        {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}
        for cap, sid, actions, resources in _capability_grants()
        if cap in caps
    ]
    if C.GATEWAY_REGISTRATION in caps:
        statements.extend(_registration_statements(stage))
    return {"Version": "2012-10-17", "Statement": statements}


def _capability_grants() -> list[tuple[Capability, str, list[str], Any]]:
    """(capability, statement id, actions, resources): what each capability is allowed."""
    table_arn = {"Fn::GetAtt": ["PowerletTable", "Arn"]}
    index_arn = _sub("${PowerletTable.Arn}/index/*")
    return [
        # No Scan: nothing in a request path or a schedule scans the table.
        (
            C.TABLE_READ,
            "TableRead",
            [
                "dynamodb:GetItem",
                "dynamodb:BatchGetItem",
                "dynamodb:Query",
                "dynamodb:ConditionCheckItem",
            ],
            [table_arn, index_arn],
        ),
        (
            C.TABLE_WRITE,
            "TableWrite",
            [
                "dynamodb:PutItem",
                "dynamodb:UpdateItem",
                "dynamodb:DeleteItem",
                "dynamodb:BatchWriteItem",
            ],
            [table_arn],
        ),
        (
            C.DEAD_LETTERS,
            "DeadLetters",
            ["sqs:SendMessage"],
            [{"Fn::GetAtt": ["DeadLetterQueue", "Arn"]}],
        ),
        # Any gateway's thing (the cloud drives every building); IAM names a named
        # shadow by its thing, so the thing-name prefix is the narrowest.
        (
            C.SHADOWS,
            "MeterShadows",
            ["iot:GetThingShadow", "iot:UpdateThingShadow"],
            [_iot(f"thing/{gateway_thing_prefix()}*")],
        ),
        # Each brand mails from its own verified address (docs/brands.md), so any
        # verified identity of this account and region, and no other.
        (
            C.EMAIL,
            "AlertEmail",
            ["ses:SendEmail"],
            [_sub("arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*")],
        ),
        (C.SMS, "AlertSms", ["sns:Publish"], "*"),
        (
            C.INVOKE_BILLING,
            "BillingFanOut",
            ["lambda:InvokeFunction"],
            [{"Fn::GetAtt": ["BillProperty", "Arn"]}],
        ),
        (
            C.BRAND_ASSETS,
            "BrandAssets",
            ["s3:GetObject", "s3:PutObject"],
            [_sub("${BrandAssetsBucket.Arn}/*")],
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


def _registration_statements(stage: str) -> list[dict[str, Any]]:
    """The reseller API's gateway registration: a thing, its certificate and its policies."""
    from chalicelib.application.gateway_policy import policy_name
    from chalicelib.application.reseller.gateways import THING_GROUP_PREFIX

    things = _iot(f"thing/{gateway_thing_prefix()}*")
    groups = _iot(f"thinggroup/{THING_GROUP_PREFIX}*")
    return [
        {
            "Sid": "RegisterGatewayThings",
            "Effect": "Allow",
            "Action": [
                "iot:CreateThing",
                "iot:DescribeThing",
                "iot:CreateThingGroup",
                "iot:AddThingToThingGroup",
                "iot:AttachThingPrincipal",
            ],
            "Resource": [things, groups],
        },
        {
            "Sid": "CreateEachGatewaysOwnPolicy",
            "Effect": "Allow",
            "Action": ["iot:CreatePolicy"],
            "Resource": [_iot("policy/" + policy_name(stage, "") + "*")],
        },
        {
            "Sid": "AttachGatewayPolicyToItsCertificate",
            "Effect": "Allow",
            "Action": ["iot:AttachPolicy"],
            "Resource": [_iot("cert/*")],
        },
        {
            "Sid": "NewCertificateAndEndpoint",
            "Effect": "Allow",
            "Action": ["iot:CreateKeysAndCertificate", "iot:DescribeEndpoint"],
            "Resource": "*",
        },
    ]


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
        "POWERLET_GATEWAY_POLICY": {"Ref": "GatewayPolicy"},
    }
    env = {"POWERTOOLS_SERVICE_NAME": "powerlet"}
    for name, needed in ENV_FROM_STACK.items():
        if needed is None or needed in caps:
            env[name] = values[name]
    return env
