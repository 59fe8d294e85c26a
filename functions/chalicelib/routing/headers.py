"""Headers every HTTP answer carries, pages and API alike.

Pages set their own (CSP, frame and referrer rules: ``web/pages.py``); this adds what
every answer needs: HSTS (the portal and API are served only over HTTPS, so a browser
should never try plain HTTP first), ``nosniff``, and ``no-store`` unless the route chose a
cache policy itself (the stylesheets and logos do), because API answers carry balances and
personal data that no shared cache may keep.
"""

from __future__ import annotations

from collections.abc import MutableMapping

HSTS = "max-age=63072000; includeSubDomains"  # two years, as hstspreload.org asks
ALWAYS = {"Strict-Transport-Security": HSTS, "X-Content-Type-Options": "nosniff"}
DEFAULT_CACHE = "no-store"


def add_security_headers(headers: MutableMapping[str, str | list[str]]) -> None:
    present = {name.lower() for name in headers}
    for name, value in ALWAYS.items():
        if name.lower() not in present:
            headers[name] = value
    if "cache-control" not in present:
        headers["Cache-Control"] = DEFAULT_CACHE
