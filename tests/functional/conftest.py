"""The functional tier runs against the AWS stand-in (moto server) in a child process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from chalicelib.data.binding import bind_models
from chalicelib.wiring.container import Container, using
from chalicelib.wiring.settings import Settings
from local_aws.seed import seed_demo
from local_aws.stack import LocalStack

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.fixture(scope="session")
def standin() -> Iterator[LocalStack]:
    ARTIFACTS.mkdir(exist_ok=True)
    saved = dict(os.environ)
    stack = LocalStack(conflict_rate=0.0)
    stack.start(log_path=ARTIFACTS / "aws-standin.log")
    try:
        yield stack
        stats = stack.guard_stats()
        assert stats["refused"] == 0, f"Scans reached the stand-in: {stats['callers']}"
    finally:
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="session")
def settings(standin: LocalStack) -> Settings:
    settings = Settings.from_env(standin.env())
    bind_models(settings)
    return settings


@pytest.fixture(scope="session")
def demo(standin: LocalStack, settings: Settings) -> dict[str, object]:
    assert standin.resources is not None
    return seed_demo(standin.resources)


@pytest.fixture(scope="session")
def services(settings: Settings, demo: dict[str, object]) -> Iterator[Container]:
    with using(Container(settings)) as svc:
        yield svc
