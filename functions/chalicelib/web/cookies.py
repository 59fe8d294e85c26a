"""Cookie names and attributes, parsed and built in one place.

Every cookie is HttpOnly and SameSite=Lax (a cross-site POST carries none of
them), and Secure unless the settings allow plain-http localhost.
"""

from __future__ import annotations

from http.cookies import CookieError, SimpleCookie

SESSION_COOKIE = "pl_session"
PRE_SESSION_CSRF_COOKIE = "pl_csrf"  # double-submit token for the sign-in forms
LANGUAGE_COOKIE = "pl_lang"
DEVICE_COOKIE = "pl_device"  # a browser that signed in before (data/trusted_devices.py)
MAX_COOKIE_HEADER_CHARS = 8192


def read_cookies(header: str | None) -> dict[str, str]:
    if not header or len(header) > MAX_COOKIE_HEADER_CHARS:
        return {}
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return {}
    return {name: morsel.value for name, morsel in jar.items()}


def set_cookie(name: str, value: str, *, max_age_s: int, secure: bool, path: str = "/") -> str:
    """``path`` is the portal's mount (``/api`` under the stage): the cookie goes only
    to this app, and sign-out clears the one sign-in set."""
    parts = [f"{name}={value}", f"Path={path}", f"Max-Age={max_age_s}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def clear_cookie(name: str, *, secure: bool, path: str = "/") -> str:
    return set_cookie(name, "", max_age_s=0, secure=secure, path=path)
