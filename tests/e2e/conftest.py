"""The end-to-end tier: the whole local system (the same ``LocalSystem`` as ``make run``) on
free ports, with its own portfolio, a 10-second settlement period, 1-second polling and
simulators running an hour of consumption in one to six seconds."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from chalicelib.wiring.settings import ENV_SETTLEMENT_PERIOD_H
from local_aws.resources import ProvisionedStack
from local_run.system import LocalSystem, Seeded, SystemOptions

from .link import CuttableLink
from .portfolio import seed_portfolio
from .probes import Probe

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "e2e"
SETTLEMENT_PERIOD_S = 10


@dataclass(frozen=True)
class Running:
    system: LocalSystem
    probe: Probe
    link: CuttableLink  # between gw-cut and the broker


@pytest.fixture(scope="package")
def running() -> Iterator[Running]:
    saved = dict(os.environ)
    # A previous run's spool would replay into this stack.
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    system = LocalSystem(
        SystemOptions(
            state_dir=ARTIFACTS,
            cloud_env={ENV_SETTLEMENT_PERIOD_H: str(SETTLEMENT_PERIOD_S / 3600)},
        )
    )
    link = CuttableLink(system.mqtt_port)
    link.restore()

    def seed(stack: ProvisionedStack) -> Seeded:
        return seed_portfolio(stack, {"gw-cut": link.port})

    try:
        system.start(seed)
        probe = Probe(system)
        probe.warm_up()
        yield Running(system, probe, link)
        dead = [c.name for c in system.supervisor.exited()]
        assert not dead, f"processes died during the tier: {dead} (logs in {ARTIFACTS})"
    finally:
        link.cut()
        system.stop()
        os.environ.clear()
        os.environ.update(saved)
