"""Portal tests drive the real app through chalice's test client, against the
AWS stand-in (moto server) with the demo portfolio and its Cognito users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from chalice.test import Client

from app import app
from chalicelib.wiring.container import Container

from .browser_client import Browser


@pytest.fixture(scope="module")
def client(services: Container) -> Iterator[Client]:
    with Client(app) as c:
        yield c


@pytest.fixture
def browser(client: Client) -> Browser:
    return Browser(client)
