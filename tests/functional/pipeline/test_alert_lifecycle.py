"""Alerts have a lifecycle (docs/pipeline.md, "Alerts"): a condition opens once, a repeat
is counted and not sent again, staff acknowledge or resolve it, and it resolves by
itself when the condition clears (the gateway reconnects, a top-up lifts the credit
above the threshold, the power comes back). What people receive is in words."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from chalicelib.auth.principal import Principal, Role
from chalicelib.data.models import Notification
from chalicelib.pipeline.alerts import Alert, alert_id
from chalicelib.wiring import handlers
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack

from .rig import FLAT_TWD, T0, Bus, MeterSpec, event, make_bus, minutes

pytestmark = pytest.mark.functional


def admin(bus: Bus) -> Principal:
    return Principal(bus.company_id, "admin", "a@example.com", Role.COMPANY_ADMIN)


def tenant(bus: Bus, unit_id: str) -> Principal:
    return Principal(bus.company_id, bus.tenant_subs[unit_id], "t@example.com", Role.TENANT)


def presence(bus: Bus, kind: str, at_ms: int) -> dict[str, Any]:
    return {"clientId": bus.thing_name, "eventType": kind, "timestamp": at_ms}


def emails_to(standin: LocalStack, address: str) -> list[dict[str, Any]]:
    return [m for m in standin.sent_messages()["emails"] if address in m["to"]]


def test_a_gateway_offline_alert_opens_once_counts_repeats_and_closes_when_it_reconnects(
    pipeline: Container, standin: LocalStack
) -> None:
    # GIVEN a gateway that disconnects
    bus = make_bus(pipeline.ledger, [MeterSpec("m-a", "u-a", FLAT_TWD)])
    start_ms = int(T0.timestamp() * 1000)
    handlers.gateway_presence(presence(bus, "disconnected", start_ms))
    # THEN one alert is open, and its admin got it in words
    groups = pipeline.notifications.open_groups(admin(bus))
    assert [(g.topic, g.open, g.acknowledged) for g in groups] == [("gateway_offline", 1, 0)]
    mails = emails_to(standin, f"admin-{bus.company_id[3:]}@example.com")
    assert len(mails) == 1 and mails[0]["subject"].endswith("A gateway went offline")
    assert f"gateway {bus.gateway_id} at P went offline" in mails[0]["body"]
    assert "gateway:" not in mails[0]["body"]
    # WHEN the same condition is raised again (the sweep finds it silent) THEN it is
    # counted on the open alert and nobody is told twice
    again = Alert(
        bus.company_id, "gateway_offline", f"gateway:{bus.gateway_id}", T0 + minutes(11), "staff"
    )
    assert pipeline.notifier.notify(again) is None
    pointer = pipeline.notification_store.get_open(bus.company_id, again.alert_id())
    assert pointer is not None and int(pointer.occurrences) == 2
    assert len(emails_to(standin, f"admin-{bus.company_id[3:]}@example.com")) == 1
    # WHEN the gateway reconnects THEN the alert is resolved, by the condition clearing
    handlers.gateway_presence(presence(bus, "connected", start_ms + 60_000 * 20))
    assert pipeline.notifications.open_groups(admin(bus)) == []
    item = pipeline.notifications.page(admin(bus)).items[0]
    assert item.status == "resolved" and item.item.resolved_by == "condition cleared"
    # AND a new disconnection opens a new alert
    handlers.gateway_presence(presence(bus, "disconnected", start_ms + 60_000 * 30))
    assert [g.open for g in pipeline.notifications.open_groups(admin(bus))] == [1]


def test_staff_acknowledge_then_resolve_an_alert_by_hand(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-b", "u-b", FLAT_TWD)])
    raised = Alert(
        bus.company_id, "reverse_energy", "meter:m-b", T0, "staff", None, {"watts": "-40"}
    )
    pipeline.notifier.notify(raised)
    # WHEN staff acknowledge it THEN it stays listed, as acknowledged, with who did it
    pipeline.notifications.act(admin(bus), raised.alert_id(), "acknowledge", T0 + minutes(1))
    groups = pipeline.notifications.open_groups(admin(bus))
    assert [(g.topic, g.open, g.acknowledged) for g in groups] == [("reverse_energy", 0, 1)]
    assert groups[0].shown[0].subject.unit_name == "u-b"
    view = pipeline.notifications.page(admin(bus)).items[0]
    assert (view.status, view.item.acknowledged_by) == ("acknowledged", "a@example.com")
    # WHEN they resolve it THEN it is gone from the open alerts, resolved by them
    pipeline.notifications.act(admin(bus), raised.alert_id(), "resolve", T0 + minutes(2))
    assert pipeline.notifications.open_groups(admin(bus)) == []
    view = pipeline.notifications.page(admin(bus)).items[0]
    assert (view.status, view.item.resolved_by) == ("resolved", "a@example.com")
    # AND another company's admin cannot find it
    other = Principal("formosa", "x", "x@example.com", Role.COMPANY_ADMIN)
    with pytest.raises(Exception, match="not found"):
        pipeline.notifications.act(other, raised.alert_id(), "resolve", T0)


def test_low_credit_resolves_when_a_top_up_lifts_the_credit_above_its_threshold(
    pipeline: Container, standin: LocalStack
) -> None:
    # GIVEN a prepaid unit (100.00 TWD, 5 TWD a kWh) with thresholds of 60 and 30 TWD
    bus = make_bus(pipeline.ledger, [MeterSpec("m-c", "u-c", FLAT_TWD)], thresholds=[6_000, 3_000])
    sub = bus.tenant_subs["u-c"]
    # WHEN it uses 15 kWh (75 TWD) over an hour: both thresholds crossed
    for seq, (minute, value) in enumerate(((1, "100.000"), (30, "108.000"), (62, "115.000")), 1):
        handlers.ingest_telemetry(event(bus, seq, T0 + minutes(minute), {"m-c": value}))
    mine = pipeline.notifications.tenant_page(tenant(bus, "u-c")).items
    assert sorted((v.item.topic, v.status) for v in mine) == [
        ("low_credit", "open"),
        ("low_credit", "open"),
    ]
    # THEN the tenant's e-mail says it in words and money, no field names
    mails = emails_to(standin, f"{sub}@example.com")
    assert mails and "Your electricity credit is low" in mails[0]["subject"]
    assert "The credit for u-c, P is" in mails[0]["body"] and "60.00" in mails[0]["body"]
    assert not any(raw in m["body"] for m in mails for raw in ("_minor", "unit:", "currency"))
    # WHEN a top-up brings the credit to 45 TWD (above 30, below 60)
    pipeline.meter_control.top_up(bus.company_id, "u-c", 2_000, "k" * 16, "staff", T0 + minutes(70))
    # THEN the 30 TWD alert is resolved and the 60 TWD alert stays open
    statuses = {
        v.item.subject_ref: v.status
        for v in pipeline.notifications.tenant_page(tenant(bus, "u-c")).items
    }
    assert statuses == {"unit:u-c:6000": "open", "unit:u-c:3000": "resolved"}
    # AND staff see the open one counted on their dashboard (the tenant acts on it)
    groups = pipeline.notifications.open_groups(admin(bus))
    assert [(g.topic, g.open) for g in groups] == [("low_credit", 1)]
    assert groups[0].shown[0].audience == "tenant"
    # AND the other tenant of the company sees none of it
    assert (
        pipeline.notifications.tenant_page(
            Principal(bus.company_id, "someone-else", "s@example.com", Role.TENANT)
        ).items
        == []
    )


def test_power_back_on_resolves_the_cut_and_a_tenant_chooses_no_e_mail(
    pipeline: Container, standin: LocalStack
) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-d", "u-d", FLAT_TWD)], phone="+886900000001")
    sub = bus.tenant_subs["u-d"]
    # GIVEN a tenant who wants text messages only, in Traditional Chinese (the brand's
    # language is English: the tenant's own comes first)
    pipeline.alert_settings.choose(
        tenant(bus, "u-d"), {"form": "channels", "sms": "yes", "language": "zh_TW"}
    )
    chosen = pipeline.alert_settings.channels(tenant(bus, "u-d"))
    assert (chosen.email, chosen.sms, chosen.language) == (False, True, "zh_TW")
    cut = Alert(
        bus.company_id,
        "disconnected",
        "unit:u-d",
        T0,
        "tenant",
        sub,
        {"reason": "credit_exhausted"},
    )
    before = len(emails_to(standin, f"{sub}@example.com"))
    item = pipeline.notifier.notify(cut)
    # THEN no e-mail, one SMS, in words
    assert item is not None and set(item.delivery) == {"sms:+886900000001"}
    assert len(emails_to(standin, f"{sub}@example.com")) == before
    sms = [m["message"] for m in standin.sent_messages()["sms"] if "u-d" in str(m["message"])]
    assert any("u-d已停電（額度已用完），儲值後即恢復供電" in str(m) for m in sms)
    # WHEN the power comes back on THEN the cut is resolved (the notice clears it)
    restored = Alert(
        bus.company_id, "restored", "unit:u-d", T0 + timedelta(hours=1), "tenant", sub,
        {"reason": "credit_ok"},
    )  # fmt: skip
    pipeline.notifier.notify(restored)
    assert pipeline.notification_store.get_open(bus.company_id, alert_id(*_ref(cut))) is None
    statuses = [v.status for v in pipeline.notifications.tenant_page(tenant(bus, "u-d")).items]
    assert statuses == ["notice", "resolved"]


def _ref(alert: Alert) -> tuple[str, str]:
    return alert.topic, alert.subject_ref


def test_a_replayed_alert_is_not_recorded_twice(pipeline: Container) -> None:
    bus = make_bus(pipeline.ledger, [MeterSpec("m-e", "u-e", FLAT_TWD)])
    raised = Alert(bus.company_id, "meter_offline", "meter:m-e", T0, "staff", None, {})
    assert isinstance(pipeline.notifier.notify(raised), Notification)
    assert pipeline.notifier.notify(raised) is None
    pointer = pipeline.notification_store.get_open(bus.company_id, raised.alert_id())
    assert pointer is not None and int(pointer.occurrences) == 1
