"""Named shadows and the relay: desired in, relay switched and read back, reported out."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

from cloud_fakes import Clock, FakeBus, FakeMeter, FakeTransport, meter_config

from meter_gateway.enforcement import RelayStateStore
from meter_gateway.shadows import RelayController, shadow_name

# Friday 2026-11-27 10:00 UTC
NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC).timestamp()
ALL_WEEK = [[d, "00:00", "24:00"] for d in range(7)]


def _desired(cmd="c1", power="on", kwh="150.000", weekly=(), reason="credit_ok"):
    cutoff = (
        None
        if kwh is None
        else {
            "kwh": kwh,
            "friendly": {"tz": "Europe/Berlin", "weekly": list(weekly), "holidays": []},
        }
    )
    return {"power": power, "reason": reason, "cmd": cmd, "cutoff": cutoff}


class Rig:
    def __init__(self, tmp_path, meters=None, transport=None, clock=None):
        self.clock = clock or Clock(NOW)
        self.bus = FakeBus(meters or {"m1": FakeMeter(), "m2": FakeMeter()})
        self.configs = [meter_config(mid, i + 1) for i, mid in enumerate(self.bus.meters)]
        self.transport = transport or FakeTransport()
        self.store = RelayStateStore(tmp_path / "relay_state.json")
        self.store.load()
        self.controller = RelayController(
            meters=self.configs,
            bus=self.bus,
            transport=self.transport,
            store=self.store,
            bus_lock=asyncio.Lock(),
            shadow_timeout_ms=1_000,
            offline_after_ms=60_000,
            clock=self.clock,
        )

    async def cycle(self):
        """One poll cycle followed by one shadow round, as the service runs them."""
        samples = await self.bus.poll(self.configs)
        self.controller.observe_link()
        await self.controller.after_cycle(samples)
        await self.controller.sync_once()


async def test_desired_off_opens_the_relay_and_reports_it(tmp_path, shadow_validator):
    # GIVEN a gateway in sync with the cloud
    rig = Rig(tmp_path)
    await rig.cycle()
    # WHEN the cloud sets power off
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c2", "off", reason="manual_off"))
    await rig.cycle()
    # THEN the relay was written off, and the shadow reports it, echoing the command
    assert rig.bus.meters["m1"].relay_writes == [False]
    assert rig.bus.meters["m1"].relay_on is False
    reported = rig.transport.book.reported(shadow_name("m1"))
    assert reported["power"] == "off" and reported["cmd"] == "c2" and reported["source"] == "cloud"
    assert "error" not in reported and reported["kwh"] == "100.000"  # null cleared it
    shadow_validator.validate(rig.transport.book.get(shadow_name("m1")))
    # AND the other meter was left alone
    assert rig.bus.meters["m2"].relay_writes == []


async def test_the_same_command_is_applied_once(tmp_path):
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c2", "off"))
    for _ in range(3):
        await rig.cycle()
    assert rig.bus.meters["m1"].relay_writes == [False]


async def test_a_relay_that_does_not_follow_is_reported_with_the_failure(
    tmp_path, shadow_validator
):
    # GIVEN a relay welded closed
    rig = Rig(tmp_path, meters={"m1": FakeMeter(relay_stuck=True)})
    # WHEN the cloud asks for off
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c3", "off"))
    await rig.cycle()
    # THEN the report says the relay is actually on, and why
    reported = rig.transport.book.reported(shadow_name("m1"))
    assert reported["power"] == "on"
    assert reported["error"] == "read-back mismatch"
    shadow_validator.validate(rig.transport.book.get(shadow_name("m1")))


async def test_a_desired_state_arriving_while_offline_is_fetched_on_reconnect(tmp_path):
    # GIVEN the link is down when the cloud changes the desired state
    rig = Rig(tmp_path)
    rig.transport.connected = False
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c4", "off"))
    await rig.cycle()
    assert rig.bus.meters["m1"].relay_writes == []
    # WHEN the link returns
    rig.transport.connected = True
    await rig.cycle()
    await rig.cycle()
    # THEN the gateway read the shadow and applied it
    assert rig.bus.meters["m1"].relay_on is False


async def test_offline_and_past_the_cutoff_the_gateway_cuts_by_itself(tmp_path, shadow_validator):
    # GIVEN a cutoff at 150 kWh, the meter at 100 kWh, then the cloud goes away
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c5", kwh="150.000"))
    await rig.cycle()
    rig.transport.connected = False
    await rig.cycle()
    # WHEN the meter passes the cutoff, but the offline grace (60 s) has not yet run out
    rig.bus.meters["m1"].import_kwh = Decimal("150.001")
    await rig.cycle()
    assert rig.bus.meters["m1"].relay_on is True
    # AND then it has
    rig.clock.advance(61)
    await rig.cycle()
    # THEN the relay is open and telemetry marks the meter as locally cut
    assert rig.bus.meters["m1"].relay_on is False
    assert rig.controller.locally_cut() == {"m1"}
    # AND when the link returns the shadow says who cut and why
    rig.transport.connected = True
    await rig.cycle()
    reported = rig.transport.book.reported(shadow_name("m1"))
    assert reported["source"] == "local_cutoff"
    assert reported["reason"] == "credit_exhausted_offline"
    assert reported["power"] == "off" and reported["kwh"] == "150.001"
    shadow_validator.validate(rig.transport.book.get(shadow_name("m1")))
    # AND the relay stays open while the cloud has not sent a new command
    await rig.cycle()
    assert rig.bus.meters["m1"].relay_on is False
    # WHEN the tenant tops up and the cloud sends a new command with a new cutoff
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c6", kwh="300.000"))
    await rig.cycle()
    # THEN power is back
    assert rig.bus.meters["m1"].relay_on is True
    assert rig.controller.locally_cut() == frozenset()


async def test_a_top_up_that_only_raises_the_cutoff_lifts_a_local_cut(tmp_path):
    # GIVEN the gateway cut m1 by itself while offline (cloud still says "on", cmd c7)
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c7", kwh="150.000"))
    await rig.cycle()
    rig.transport.connected = False
    await rig.cycle()
    rig.bus.meters["m1"].import_kwh = Decimal("150.001")
    rig.clock.advance(61)
    await rig.cycle()
    assert rig.bus.meters["m1"].relay_on is False
    rig.transport.connected = True
    await rig.cycle()
    # WHEN a top-up moves only the cutoff: same command, power still "on"
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c7", kwh="300.000"))
    await rig.cycle()
    # THEN the cloud's new decision replaces the local cut and power is back
    assert rig.bus.meters["m1"].relay_on is True
    assert rig.controller.locally_cut() == frozenset()
    assert rig.transport.book.reported(shadow_name("m1"))["source"] == "cloud"


async def test_offline_inside_friendly_hours_the_gateway_does_not_cut(tmp_path):
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(
        shadow_name("m1"), _desired("c7", kwh="150.000", weekly=ALL_WEEK)
    )
    await rig.cycle()
    rig.transport.connected = False
    rig.bus.meters["m1"].import_kwh = Decimal("999")
    rig.clock.advance(3_600)
    await rig.cycle()
    # THEN the only write was applying the "on" command itself
    assert rig.bus.meters["m1"].relay_writes == [True]
    assert rig.bus.meters["m1"].relay_on is True


async def test_online_the_gateway_leaves_the_decision_to_the_cloud(tmp_path):
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c8", kwh="150.000"))
    await rig.cycle()
    rig.bus.meters["m1"].import_kwh = Decimal("999")
    rig.clock.advance(3_600)
    await rig.cycle()
    # THEN the only write was applying the "on" command itself
    assert rig.bus.meters["m1"].relay_writes == [True]
    assert rig.bus.meters["m1"].relay_on is True


async def test_a_restart_while_offline_still_enforces_the_last_desired_state(tmp_path):
    # GIVEN a gateway that received a cutoff, then lost the cloud, then restarted
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c9", kwh="150.000"))
    await rig.cycle()
    meters = rig.bus.meters
    offline = FakeTransport()
    offline.connected = False
    restarted = Rig(tmp_path, meters=meters, transport=offline, clock=Clock(NOW + 10))
    # WHEN the meter passes the cutoff and the offline grace runs out
    meters["m1"].import_kwh = Decimal("151")
    await restarted.cycle()
    restarted.clock.advance(61)
    await restarted.cycle()
    # THEN the restarted gateway cut from the state on disk
    assert meters["m1"].relay_on is False


async def test_a_meter_that_came_back_with_its_relay_closed_is_opened_again(tmp_path):
    # GIVEN a meter the cloud switched off
    rig = Rig(tmp_path)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c10", "off"))
    await rig.cycle()
    # WHEN the meter power-cycles and its relay closes by default
    rig.bus.meters["m1"].relay_on = True
    rig.clock.advance(61)
    await rig.cycle()
    # THEN the gateway writes it open again
    assert rig.bus.meters["m1"].relay_writes == [False, False]
    assert rig.bus.meters["m1"].relay_on is False


async def test_an_invalid_desired_state_is_reported_and_not_applied(tmp_path, shadow_validator):
    rig = Rig(tmp_path)
    rig.transport.book.update(shadow_name("m1"), {"desired": {"power": "sideways", "cmd": "x"}})
    await rig.cycle()
    assert rig.bus.meters["m1"].relay_writes == []
    reported = rig.transport.book.reported(shadow_name("m1"))
    assert reported["power"] == "unknown" and "power" in reported["error"]


async def test_a_refused_write_reports_the_read_back_and_is_not_retried_on_a_timer(
    tmp_path, shadow_validator
):
    # GIVEN a keyed relay that refuses the gateway's write (issue 17, found in the field)
    rig = Rig(tmp_path, meters={"m1": FakeMeter(relay_refuses=True)})
    await rig.cycle()
    # WHEN the cloud asks for off
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c9", "off"))
    await rig.cycle()
    # THEN the report carries the read-back (on), not "unknown", and the refusal
    reported = rig.transport.book.reported(shadow_name("m1"))
    assert reported["power"] == "on"
    assert reported["error"] == "refused:exception:03"
    shadow_validator.validate(rig.transport.book.get(shadow_name("m1")))
    # AND drift repair does not send the refused write again, however long it waits
    for _ in range(5):
        rig.clock.advance(120)
        await rig.cycle()
    assert rig.bus.meters["m1"].relay_writes == [False]
    # AND a new command from the cloud is tried (once)
    rig.transport.cloud_sets_desired(shadow_name("m1"), _desired("c10", "off"))
    await rig.cycle()
    assert rig.bus.meters["m1"].relay_writes == [False, False]


async def test_on_by_hand_until_a_time_returns_to_the_cutoff_offline_at_its_end(
    tmp_path, shadow_validator
):
    # GIVEN the landlord switched m1 on by hand until NOW + 1 h, the credit long gone
    # (the automatic cutoff, 150 kWh, is behind the meter's 200 kWh), then the link is lost
    rig = Rig(tmp_path)
    rig.bus.meters["m1"].import_kwh = Decimal("200.000")
    on_until = {**_desired("c9", kwh="150.000", reason="manual_on"), "until": int(NOW) + 3600}
    rig.transport.cloud_sets_desired(shadow_name("m1"), on_until)
    shadow_validator.validate(rig.transport.book.get(shadow_name("m1")))
    await rig.cycle()
    rig.transport.connected = False
    await rig.cycle()
    # WHEN the link has been gone past the grace, but the end has not come
    rig.clock.advance(61)
    await rig.cycle()
    assert rig.controller.cloud_unreachable()
    # THEN the power stays on: the landlord's "on" holds until its end
    assert rig.bus.meters["m1"].relay_on is True
    assert rig.controller.locally_cut() == frozenset()
    # WHEN the end comes, the cloud still out of reach
    rig.clock.advance(3600)
    await rig.cycle()
    # THEN the gateway is back under automatic control by itself: past the cutoff, it cuts
    assert rig.bus.meters["m1"].relay_on is False
    assert rig.controller.locally_cut() == {"m1"}
