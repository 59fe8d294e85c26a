"""Forgotten-password screens under a brand's ``/b/<slug>/`` prefix (public).

POSTs without the double-submit CSRF cookie are refused (403) before Cognito
is called; an unknown slug answers 404.
"""

from __future__ import annotations

from .common import ANON, Cases

CASES: Cases = {
    ("GET", "/b/{slug}/password/forgot"): ("/b/formosa/password/forgot", {ANON: 200}),
    ("POST", "/b/{slug}/password/forgot"): ("/b/formosa/password/forgot", {ANON: 403}),
    ("GET", "/b/{slug}/password/reset"): ("/b/formosa/password/reset", {ANON: 200}),
    ("POST", "/b/{slug}/password/reset"): ("/b/formosa/password/reset", {ANON: 403}),
}
