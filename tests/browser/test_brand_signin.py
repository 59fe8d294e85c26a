"""Two brands on two hosts, in a real browser: each sign-in screen shows its
own name, colours and footer, and nothing of the other brand."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser

if TYPE_CHECKING:
    from tests.browser.conftest import Portal

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
BRANDS = {
    # host label, shown name, header colour (the brand's primary), the other brand
    "formosa": ("Formosa Homes", "rgb(15, 81, 50)", "thames"),
    "thames": ("Thames Lettings", "rgb(91, 26, 110)", "formosa"),
}


@pytest.mark.parametrize("slug", sorted(BRANDS))
def test_each_brand_host_renders_its_own_sign_in_screen(
    portal: Portal, chromium: Browser, slug: str
) -> None:
    name, header_rgb, other = BRANDS[slug]
    port = urlsplit(portal.origin).port
    # GIVEN the brand's host (Chromium resolves *.localhost to this machine)
    page = chromium.new_page(viewport={"width": 390, "height": 844})
    try:
        # WHEN the staff sign-in screen is opened there
        page.goto(f"http://{slug}.localhost:{port}{portal.mount}/signin")
        # THEN the header carries the brand's name in the brand's colour
        header = page.locator("header.top")
        # (the brand's theme is fetched under the same mount, or the colour would be wrong)
        assert page.locator("a.brand").inner_text().strip() == name
        assert header.evaluate("e => getComputedStyle(e).backgroundColor") == header_rgb
        assert name in page.locator("footer.legal").inner_text()
        # AND nothing of the other brand (nor the platform) is anywhere in the HTML
        html = page.content().lower()
        assert other not in html and "powerlet" not in html
        folder = ARTIFACTS / "screenshots"
        folder.mkdir(parents=True, exist_ok=True)
        for label, size in (("390x844", (390, 844)), ("1440x900", (1440, 900))):
            page.set_viewport_size({"width": size[0], "height": size[1]})
            shot = folder / f"brand-{slug}-signin-{label}.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 1000
    finally:
        page.close()
