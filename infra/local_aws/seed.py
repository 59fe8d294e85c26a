"""Load the demo portfolio into a provisioned stand-in (idempotent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from chalicelib.application.reseller.config import ResellerSettings
from chalicelib.branding.schema import parse_brand
from chalicelib.branding.store import BrandStore
from chalicelib.data import builders
from chalicelib.data.binding import new_connection
from chalicelib.data.brand_records import BrandRecords
from chalicelib.data.catalogue import Catalogue
from chalicelib.data.ledger_store import LedgerStore
from chalicelib.data.receipts import REF as RECEIPT_REF
from chalicelib.data.receipts import ReceiptNumbers
from chalicelib.data.reseller_store import ApiKeyStore
from chalicelib.domain import EntryKind, LedgerEntry, Money, parse_tariff
from chalicelib.domain.metering import RATINGS
from chalicelib.wiring.settings import Settings

from . import demo_data as demo
from .demo_bills import seed_demo_bill
from .resources import ProvisionedStack

TENANCY_START = demo.TENANCY_START


def ensure_user(cognito: Any, pool_id: str, email: str, company_id: str, role: str) -> str:
    """Create (or find) a confirmed user with the demo password; return its sub."""
    try:
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            MessageAction="SUPPRESS",
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": "custom:company_id", "Value": company_id},
                {"Name": "custom:role", "Value": role},
            ],
        )
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=role)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "UsernameExistsException":
            raise
    cognito.admin_set_user_password(
        UserPoolId=pool_id, Username=email, Password=demo.DEMO_PASSWORD, Permanent=True
    )
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    return next(a["Value"] for a in user["UserAttributes"] if a["Name"] == "sub")


def ensure_thing(iot: Any, thing_name: str) -> None:
    """A gateway is an IoT thing: its meters' named shadows live on it."""
    try:
        iot.create_thing(thingName=thing_name)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


def seed_demo(
    stack: ProvisionedStack, session: boto3.Session | None = None, time_scale: float = 1.0
) -> dict[str, Any]:
    session = session or boto3.Session(region_name=stack.region)
    settings = Settings(table_name=stack.table_name, region=stack.region)
    cognito = session.client("cognito-idp")
    now = datetime.now(UTC)
    items: list[Any] = []

    for co in demo.COMPANIES:
        items.append(
            builders.company(
                co["company_id"], co["name"], now, low_credit_thresholds_minor=co["thresholds"]
            )
        )
    for prop in demo.PROPERTIES:
        items.append(builders.property_(**prop))
    for gw in demo.GATEWAYS:
        items.append(builders.gateway(**gw))

    subs: dict[str, str] = {}
    tenant_of: dict[str, tuple[str, str]] = {}
    for company_id, email, role, scope, unit_id in demo.PEOPLE:
        sub = ensure_user(cognito, stack.user_pool_id, email, company_id, role)
        subs[email] = sub
        attrs: dict[str, Any] = {"property_ids": set(scope)} if scope else {}
        items.append(builders.membership(company_id, sub, email, role, **attrs))
        if unit_id:
            tenant_of[unit_id] = (email, sub)

    ledger = LedgerStore(new_connection(settings))
    receipts = ReceiptNumbers()
    opened = datetime.fromisoformat(TENANCY_START + "T00:00:00+00:00")
    for (
        company_id,
        property_id,
        unit_id,
        name,
        unit_type,
        mode,
        tariff,
        gateway_id,
        profile,
        address,
    ) in demo.UNITS:
        parse_tariff(tariff)  # the demo must hold valid tariffs, like everything else
        meter_id = f"m-{unit_id}"
        relay = (
            {"address": 100, "profile": "relay_module", "channel": address - 1}
            if profile == "sdm120"
            else {"address": address, "profile": "dds238", "channel": 0}
        )
        items.append(
            builders.meter(
                company_id,
                meter_id,
                gateway_id,
                address,
                unit_id=unit_id,
                profile=profile,
                relay=relay,
                last_kwh=demo.OPENING_KWH[unit_id],
                last_read_at=opened,
            )
        )
        unit_attrs: dict[str, Any] = {
            "name": name,
            "unit_type": unit_type,
            "billing_mode": mode,
            "tariff": tariff,
            "meter_id": meter_id,
        }
        if unit_id in tenant_of:
            email, sub = tenant_of[unit_id]
            tenancy_id = f"t-{unit_id}-{TENANCY_START}"
            account_id = f"a-{tenancy_id}"
            currency = tariff["currency"]
            ledger.open_account(company_id, account_id, currency, opened)
            items.append(
                builders.tenancy(
                    company_id,
                    tenancy_id,
                    unit_id,
                    sub,
                    TENANCY_START,
                    account_id=account_id,
                    opening_kwh=demo.OPENING_KWH[unit_id],
                )
            )
            unit_attrs.update(account_id=account_id, tenancy_id=tenancy_id)
            if mode == "prepaid":
                ledger.append(
                    company_id,
                    LedgerEntry(
                        entry_id=f"demo-topup-{tenancy_id}",
                        account_id=account_id,
                        kind=EntryKind.TOP_UP,
                        amount=Money(100000 if currency == "TWD" else 2000, currency),
                        occurred_at=opened,
                        memo="Opening credit",
                        refs={RECEIPT_REF: str(receipts.next(company_id))},
                    ),
                )
        items.append(
            builders.unit(
                company_id,
                unit_id,
                property_id,
                max_current_a=simulated_max_current(time_scale),
                **unit_attrs,
            )
        )

    Catalogue.save_all(items)
    seed_demo_bill(settings, subs)  # after the catalogue: it bills a seeded unit
    iot = session.client("iot")
    for gw in demo.GATEWAYS:
        ensure_thing(iot, gw["thing_name"])
    reseller_key = seed_brands_and_reseller(session, settings, now)
    return {
        # created now, printed once for `make run`; never stored in the clear
        "reseller_api_key": reseller_key,
        "password": demo.DEMO_PASSWORD,
        "logins": [
            {"email": email, "company": co, "role": role}
            for co, email, role, _scope, _unit in demo.PEOPLE
        ],
        "seeded_at": now.isoformat(),
    }


BRANDS_DIR = Path(__file__).resolve().parents[2] / "branding" / "brands"


def gateway_policy_document(region: str, stage: str) -> str:
    """The stack's shared gateway policy (deploy.iot_policy), resolved for the stand-in."""
    from local_iot.policies import shared_gateway_policy

    return json.dumps(shared_gateway_policy(region, stage))


def ensure_gateway_policy(iot: Any, name: str, stage: str) -> None:
    try:
        document = gateway_policy_document(iot.meta.region_name, stage)
        iot.create_policy(policyName=name, policyDocument=document)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceAlreadyExistsException":
            raise


def seed_brands_and_reseller(session: boto3.Session, settings: Settings, now: datetime) -> str:
    """Brand the demo companies, register the demo reseller, issue it a key."""
    brands = BrandStore(BrandRecords(new_connection(settings)))
    ses = session.client("ses")
    for company_id, filename in demo.BRAND_FILES.items():
        config = parse_brand(json.loads((BRANDS_DIR / filename).read_text(encoding="utf-8")))
        brands.save(company_id, config, brands.get(company_id))
        for domain in config.custom_domains:
            # the demo domains are ours: no DNS challenge to meet (docs/brands.md)
            brands.mark_verified(company_id, domain, now)
        # SES sends only from verified identities (a domain identity in AWS)
        ses.verify_email_identity(EmailAddress=config.email_sender_address)
    reseller = ResellerSettings.from_env()
    ensure_gateway_policy(session.client("iot"), reseller.gateway_policy_name, reseller.stage)
    builders.reseller(demo.DEMO_RESELLER["reseller_id"], demo.DEMO_RESELLER["name"]).save()
    issued = ApiKeyStore().issue(demo.DEMO_RESELLER["reseller_id"], now, label="make run")
    return issued.secret


def simulated_max_current(time_scale: float, profile: str = "dds238") -> int | None:
    """A simulated meter whose clock runs ``time_scale`` times faster registers that much
    more energy per real second than a real one can: its unit declares the wider supply,
    so reading validation (docs/metering-data.md) holds what is a glitch there, not what
    is only fast. None at real speed: the model's own rating applies."""
    if time_scale <= 1:
        return None
    return int(RATINGS[profile].max_current_a * Decimal(str(time_scale))) + 1
