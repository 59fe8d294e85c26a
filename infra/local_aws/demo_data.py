"""The demo portfolio, as data: two companies (the second one proves isolation),
properties in three cities, units of every type, meters of both supported
profiles, tenancies, and the people who sign in."""

from __future__ import annotations

from typing import Any

TENANCY_START = "2026-11-01"  # the demo tenancies' first day
DEMO_PASSWORD = "Powerlet-demo-2026"  # noqa: S105 - printed by `make run`; local stand-in only

TAIWAN_HOLIDAYS = [
    "2026-01-01",
    "2026-02-16",
    "2026-02-17",
    "2026-02-18",
    "2026-04-03",
    "2026-05-01",
    "2026-06-19",
    "2026-09-25",
    "2026-10-09",
    "2026-12-25",
]

# Nights, Sundays and holidays: automatic disconnection for lack of credit waits.
FRIENDLY_TW = {
    "tz": "Asia/Taipei",
    "weekly": [[d, "00:00", "08:00"] for d in range(7)]
    + [[d, "18:00", "24:00"] for d in range(7)]
    + [[6, "00:00", "24:00"]],
    "holidays": TAIWAN_HOLIDAYS,
}
FRIENDLY_UK = {
    "tz": "Europe/London",
    "weekly": [[d, "00:00", "08:00"] for d in range(7)]
    + [[d, "16:00", "24:00"] for d in range(7)]
    + [[5, "00:00", "24:00"], [6, "00:00", "24:00"]],
    "holidays": ["2026-12-25", "2026-12-28"],
}

TARIFF_TW_FLAT = {
    "kind": "flat",
    "tariff_id": "tw-flat-5",
    "currency": "TWD",
    "price_per_kwh": "5.00",
}
TARIFF_TW_TIERED = {
    "kind": "tiered",
    "tariff_id": "tw-residential",
    "currency": "TWD",
    "tax_rate": "0",
    "seasons": [
        {
            "name": "summer",
            "start": "06-01",
            "end": "09-30",
            "tiers": [
                {"upto_kwh": "120", "price_per_kwh": "1.68"},
                {"upto_kwh": "330", "price_per_kwh": "2.45"},
                {"upto_kwh": "500", "price_per_kwh": "3.70"},
                {"upto_kwh": None, "price_per_kwh": "5.04"},
            ],
        },
        {
            "name": "non-summer",
            "start": "10-01",
            "end": "05-31",
            "tiers": [
                {"upto_kwh": "120", "price_per_kwh": "1.68"},
                {"upto_kwh": "330", "price_per_kwh": "2.16"},
                {"upto_kwh": "500", "price_per_kwh": "3.03"},
                {"upto_kwh": None, "price_per_kwh": "4.14"},
            ],
        },
    ],
    "fixed_charges": [{"code": "meter-service", "amount_minor": 3000, "per": "period"}],
}
TARIFF_TW_TOU = {
    "kind": "tou",
    "tariff_id": "tw-shop-tou",
    "currency": "TWD",
    "bands": [
        {"name": "peak", "price_per_kwh": "6.20"},
        {"name": "off-peak", "price_per_kwh": "2.10"},
    ],
    "windows": [
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "00:00",
            "end": "09:00",
            "band": "off-peak",
        },
        {
            "days": ["mon", "tue", "wed", "thu", "fri"],
            "start": "09:00",
            "end": "24:00",
            "band": "peak",
        },
        {"days": ["sat", "sun", "holiday"], "start": "00:00", "end": "24:00", "band": "off-peak"},
    ],
    "holidays": TAIWAN_HOLIDAYS,
}
TARIFF_UK_FLAT = {
    "kind": "flat",
    "tariff_id": "uk-standard",
    "currency": "GBP",
    "price_per_kwh": "0.2450",
    "tax_rate": "0.05",
    "fixed_charges": [{"code": "standing", "amount_minor": 53, "per": "day"}],
}

COMPANIES: list[dict[str, Any]] = [
    {"company_id": "formosa", "name": "Formosa Homes", "thresholds": [50000, 20000, 5000]},
    {"company_id": "thames", "name": "Thames Lettings", "thresholds": [1000, 300]},
]

PROPERTIES: list[dict[str, Any]] = [
    {
        "company_id": "formosa",
        "property_id": "tpe-daan",
        "name": "Da'an Residence",
        "address": "No. 12, Lane 50, Section 2, Xinyi Road, Da'an District",
        "city": "Taipei",
        "country": "TW",
        "time_zone": "Asia/Taipei",
        "currency": "TWD",
        "locale": "zh_TW",
        "friendly_hours": FRIENDLY_TW,
        "emergency_credit_minor": 10000,
    },
    {
        "company_id": "formosa",
        "property_id": "khh-yancheng",
        "name": "Yancheng Shops & Offices",
        "address": "No. 8, Dayong Road, Yancheng District",
        "city": "Kaohsiung",
        "country": "TW",
        "time_zone": "Asia/Taipei",
        "currency": "TWD",
        "locale": "zh_TW",
        "friendly_hours": FRIENDLY_TW,
        "emergency_credit_minor": 20000,
    },
    {
        "company_id": "thames",
        "property_id": "ldn-camden",
        "name": "Camden Yard Flats",
        "address": "14 Pratt Street",
        "city": "London",
        "country": "GB",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "locale": "en_GB",
        "friendly_hours": FRIENDLY_UK,
        "emergency_credit_minor": 500,
    },
]

# Thing names as the reseller API gives them (pipeline/senders.py thing_name_for): presence
# looks up only client ids of that shape.
GATEWAYS: list[dict[str, Any]] = [
    {
        "company_id": "formosa",
        "gateway_id": "gw-tpe-1",
        "thing_name": "pl-formosa_gw-tpe-1",
        "property_id": "tpe-daan",
    },
    {
        "company_id": "formosa",
        "gateway_id": "gw-khh-1",
        "thing_name": "pl-formosa_gw-khh-1",
        "property_id": "khh-yancheng",
    },
    {
        "company_id": "thames",
        "gateway_id": "gw-ldn-1",
        "thing_name": "pl-thames_gw-ldn-1",
        "property_id": "ldn-camden",
    },
]

# Each unit has one meter. SDM120 meters switch through a relay module at address 100.
UNITS: list[tuple[Any, ...]] = [
    (
        "formosa",
        "tpe-daan",
        "tpe-2f",
        "2F flat",
        "flat",
        "prepaid",
        TARIFF_TW_TIERED,
        "gw-tpe-1",
        "sdm120",
        1,
    ),
    (
        "formosa",
        "tpe-daan",
        "tpe-3f-a",
        "3F room A",
        "room",
        "prepaid",
        TARIFF_TW_FLAT,
        "gw-tpe-1",
        "dds238",
        2,
    ),
    (
        "formosa",
        "tpe-daan",
        "tpe-3f-b",
        "3F room B",
        "room",
        "prepaid",
        TARIFF_TW_FLAT,
        "gw-tpe-1",
        "dds238",
        3,
    ),
    (
        "formosa",
        "tpe-daan",
        "tpe-4f",
        "4F flat",
        "flat",
        "postpaid",
        TARIFF_TW_TIERED,
        "gw-tpe-1",
        "sdm120",
        4,
    ),
    (
        "formosa",
        "khh-yancheng",
        "khh-shop-1",
        "Ground-floor shop",
        "shop",
        "postpaid",
        TARIFF_TW_TOU,
        "gw-khh-1",
        "dds238",
        1,
    ),
    (
        "formosa",
        "khh-yancheng",
        "khh-office-2",
        "2F office",
        "office",
        "prepaid",
        TARIFF_TW_TOU,
        "gw-khh-1",
        "sdm120",
        2,
    ),
    (
        "formosa",
        "khh-yancheng",
        "khh-shop-3",
        "Corner kiosk",
        "shop",
        "prepaid",
        TARIFF_TW_FLAT,
        "gw-khh-1",
        "dds238",
        3,
    ),
    (
        "thames",
        "ldn-camden",
        "ldn-flat-1",
        "Flat 1",
        "flat",
        "prepaid",
        TARIFF_UK_FLAT,
        "gw-ldn-1",
        "dds238",
        1,
    ),
]

# (company, email, role, property scope, tenancy unit or None)
PEOPLE = [
    ("formosa", "admin@formosa.example", "company_admin", [], None),
    ("formosa", "landlord@formosa.example", "landlord", ["tpe-daan"], None),
    ("formosa", "manager@formosa.example", "property_manager", ["khh-yancheng"], None),
    ("formosa", "tenant@formosa.example", "tenant", [], "tpe-3f-a"),
    ("formosa", "tenant2@formosa.example", "tenant", [], "tpe-2f"),
    ("formosa", "shop@formosa.example", "tenant", [], None),  # its tenancy: DEMO_BILL
    ("thames", "admin@thames.example", "company_admin", [], None),
    ("thames", "tenant@thames.example", "tenant", [], "ldn-flat-1"),
]

# A postpaid tenancy with a bill: the shop moved in on 1 October 2026 and its
# October bill is computed at seed time by the real billing run
# (local_aws/demo_bills.py) from the tenancy's opening reading and the last
# reading of the month, which is the meter's seeded reading (OPENING_KWH).
DEMO_BILL = {
    "company_id": "formosa",
    "property_id": "khh-yancheng",
    "unit_id": "khh-shop-1",
    "tenant": "shop@formosa.example",
    "starts_on": "2026-10-01",
    "opening_kwh": "11412.300",
    "closing_at": "2026-10-31T23:50:00+08:00",
    # the schedule's first run past the month's end and its grace (pipeline/bill_periods.py)
    "billed_at": "2026-11-02T09:00:00+08:00",
}

OPENING_KWH = {
    "tpe-2f": "1520.400",
    "tpe-3f-a": "302.110",
    "tpe-3f-b": "88.000",
    "tpe-4f": "4410.000",
    "khh-shop-1": "12030.550",
    "khh-office-2": "7710.000",
    "khh-shop-3": "640.250",
    "ldn-flat-1": "2210.700",
}

# --- brands and resellers (docs/brands.md) ---

# Each demo company is branded from branding/brands/<file>; the local hosts
# (<slug>.localhost) reach `make run`'s portal on 127.0.0.1 in any browser.
BRAND_FILES = {"formosa": "formosa.json", "thames": "thames.json"}
DEMO_RESELLER = {"reseller_id": "demo-reseller", "name": "Demo Reseller"}
