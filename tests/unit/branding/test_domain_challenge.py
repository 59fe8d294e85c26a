"""The DNS challenge helpers and the DNS-over-HTTPS resolver, with the HTTP
answer faked (no network)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from chalicelib.branding import domain_challenge
from chalicelib.branding.domain_challenge import (
    DnsOverHttpsResolver,
    StaticTxtResolver,
    challenge_name,
    new_token,
    proves,
)
from chalicelib.branding.errors import DnsLookupError


def test_tokens_are_long_and_distinct() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(len(t) >= 32 for t in tokens)


def test_proves_matches_only_the_exact_token() -> None:
    token = new_token()
    assert proves([f'"{token}"'], token)
    assert proves(["v=spf1 -all", f" {token} "], token)
    assert not proves([token[:-1], token + "x", token.upper()], token)
    assert not proves([], token)


def test_static_resolver_is_case_and_dot_insensitive() -> None:
    resolver = StaticTxtResolver({"_powerlet-challenge.a.example": ["t"]})
    assert resolver.txt("_powerlet-challenge.A.example.") == ["t"]
    assert resolver.txt(challenge_name("b.example")) == []


class _Answer(io.BytesIO):
    def __enter__(self) -> _Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fake_urlopen(document: dict[str, Any], seen: list[str]) -> Any:
    def urlopen(request: Any, timeout: float) -> _Answer:
        seen.append(request.full_url)
        assert request.headers["Accept"] == "application/dns-json" and timeout <= 5
        return _Answer(json.dumps(document).encode())

    return urlopen


def test_doh_resolver_reads_txt_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    document = {
        "Status": 0,
        "Answer": [
            {"name": "x", "type": 5, "data": "alias.example."},  # a CNAME on the way
            {"name": "x", "type": 16, "data": '"tok-part-1" "tok-part-2"'},
            {"name": "x", "type": 16, "data": '"v=spf1 -all"'},
        ],
    }
    monkeypatch.setattr(domain_challenge.urllib.request, "urlopen", _fake_urlopen(document, seen))
    records = DnsOverHttpsResolver().txt("_powerlet-challenge.a.example")
    assert records == ["tok-part-1tok-part-2", "v=spf1 -all"]
    assert "name=_powerlet-challenge.a.example" in seen[0] and "type=TXT" in seen[0]


def test_doh_resolver_no_such_name_is_no_record(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        domain_challenge.urllib.request, "urlopen", _fake_urlopen({"Status": 3}, [])
    )
    assert DnsOverHttpsResolver().txt("_powerlet-challenge.gone.example") == []


def test_doh_resolver_failures_are_lookup_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        domain_challenge.urllib.request, "urlopen", _fake_urlopen({"Status": 2}, [])
    )
    with pytest.raises(DnsLookupError, match="status 2"):
        DnsOverHttpsResolver().txt("_powerlet-challenge.a.example")

    def unreachable(request: Any, timeout: float) -> Any:
        raise OSError("network is unreachable")

    monkeypatch.setattr(domain_challenge.urllib.request, "urlopen", unreachable)
    with pytest.raises(DnsLookupError, match="unreachable"):
        DnsOverHttpsResolver().txt("_powerlet-challenge.a.example")


def test_doh_resolver_refuses_plain_http() -> None:
    with pytest.raises(ValueError):
        DnsOverHttpsResolver("http://resolver.example/dns-query")
