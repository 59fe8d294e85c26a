"""A ``next`` target is a path of this site or nothing: the open-redirect corpus."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.web.redirects import HOME, local_target

OFF_SITE = [
    "//evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\n/evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "https://evil.example/",
    "HTTPS://evil.example",
    "javascript:alert(1)",
    "evil.example",
    "///evil.example",
    "/\x00/evil.example",
    " //evil.example",
    "",
]


@pytest.mark.parametrize("raw", OFF_SITE)
def test_a_target_off_the_site_falls_back_home(raw: str) -> None:
    assert local_target(raw) == HOME


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("/portal", "/portal"),
        ("/portal/units/tpe-3f-a?tab=bills", "/portal/units/tpe-3f-a?tab=bills"),
        ("/tenant#top", "/tenant"),  # the fragment is the browser's, not ours to send
    ],
)
def test_a_path_of_the_site_is_kept(raw: str, kept: str) -> None:
    assert local_target(raw) == kept


def _as_a_browser_reads_it(location: str) -> str:
    return re.sub(r"[\t\n\r]", "", location).replace("\\", "/")


@given(st.text(max_size=40))
def test_whatever_comes_in_the_browser_stays_on_the_site(raw: str) -> None:
    seen = _as_a_browser_reads_it(local_target(raw))
    assert seen.startswith("/")
    assert not seen.startswith("//")
