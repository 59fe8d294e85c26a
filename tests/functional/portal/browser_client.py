"""Just enough browser for forms: a cookie jar over chalice's test client."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlencode

from chalice.test import Client

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Browser:
    """A cookie jar over chalice's test client: just enough browser for forms."""

    client: Client
    cookies: dict[str, str] = field(default_factory=dict)
    last: Any = None

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(extra or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return headers

    def _keep(self, response: Any) -> Any:
        response.headers = {k.lower(): v for k, v in response.headers.items()}
        raw = response.headers.get("set-cookie")
        values = raw if isinstance(raw, list) else ([raw] if raw else [])
        for value in values:
            jar: SimpleCookie = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        self.last = response
        return response

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self._keep(self.client.http.get(path, headers=self._headers(headers)))

    def post(self, path: str, data: dict[str, str], csrf: str | None = None) -> Any:
        body = dict(data)
        if csrf is not None:
            body["csrf_token"] = csrf
        return self._keep(
            self.client.http.post(path, headers=self._headers(FORM), body=urlencode(body))
        )

    def csrf_of(self, path: str) -> str:
        response = self.get(path)
        assert response.status_code == 200, (path, response.status_code)
        found = CSRF.search(response.body.decode())
        assert found, f"no CSRF token on {path}"
        return found.group(1)

    def sign_in(self, email: str, password: str, screen: str = "/signin") -> Any:
        token = self.csrf_of(screen)
        return self.post(screen, {"email": email, "password": password}, csrf=token)


def text(response: Any) -> str:
    return str(response.body.decode())
