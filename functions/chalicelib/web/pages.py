"""Page routes: one declaration registers the path, the roles allowed (in the
same ``ROUTE_ACCESS`` registry as the JSON API) and the browser-session check.

Pages authenticate with the session cookie, not a bearer token, so they are
registered without the token authorizer; the wrapper does the equivalent:
session -> verified company and user -> membership -> role. It also checks the
CSRF token of every POST, maps failures to HTML pages (objects of others 404,
roles 403, no session -> redirect to the right sign-in screen) and adds the
security headers.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

from chalice import Blueprint, Response
from chalice.app import Request

from ..application.errors import InvalidCursorError
from ..auth.cognito_signin import Caller
from ..auth.errors import (
    CompanySuspendedAccessError,
    ForbiddenError,
    NoMembershipError,
    SessionRevokedError,
)
from ..auth.principal import Principal, Role
from ..branding.resolution import ResolvedBrand
from ..data.errors import InvalidIdentifierError, NotFoundError
from ..data.web_sessions import WebSession
from ..routing.access import PUBLIC, ROUTE_ACCESS
from ..routing.dependencies import deps
from ..routing.web_settings import WebSettings
from .cookies import (
    LANGUAGE_COOKIE,
    PRE_SESSION_CSRF_COOKIE,
    SESSION_COOKIE,
    clear_cookie,
    read_cookies,
    set_cookie,
)
from .errors import CsrfError, InvalidFormError, NotSignedInError
from .i18n import LANGUAGE_LABELS, LANGUAGES, Translator, pick_language
from .mount import Mount, mount_of
from .render import render

FORM = "application/x-www-form-urlencoded"
MAX_FORM_BYTES = 16_384
MAX_FORM_FIELDS = 30
MAX_FIELD_CHARS = 2_000
PRE_SESSION_CSRF_MAX_AGE_S = 3600
CSRF_FIELD = "csrf_token"

PAGE_ROUTES: set[tuple[str, str]] = set()

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}

STAFF_SIGN_IN = "/signin"
TENANT_SIGN_IN = "/tenant/signin"


@dataclass
class PageContext:
    request: Request
    settings: WebSettings
    cookies: dict[str, str]
    accept_language: str | None = None
    principal: Principal | None = None
    session: WebSession | None = None
    set_cookies: list[str] = field(default_factory=list)
    _form: dict[str, str] | None = None
    slug: str | None = None  # the /b/<slug>/ prefix, on the routes that have it
    _brand: ResolvedBrand | None = None
    _tr: Translator | None = None
    _mount: Mount | None = None
    form_limits: tuple[int, int] = (MAX_FORM_FIELDS, MAX_FORM_BYTES)  # fields, bytes

    @property
    def signed_in(self) -> Principal:
        """The principal of a page behind a session check (``page(..., roles)``), which
        has run before the view: a view of a signed-in page never sees None."""
        assert self.principal is not None
        return self.principal

    @property
    def mount(self) -> Mount:
        """Where this request's browser sees the app (``/api`` under the stage)."""
        if self._mount is None:
            self._mount = mount_of(self.request.context or {})
        return self._mount

    def url(self, path: str, **params: str) -> str:
        """The URL of an app path, as this request's browser must ask for it."""
        return self.mount.url(path, **params)

    def cookie(self, name: str, value: str, max_age_s: int) -> None:
        self.set_cookies.append(
            set_cookie(
                name,
                value,
                max_age_s=max_age_s,
                secure=self.settings.cookie_secure,
                path=self.mount.cookie_path,
            )
        )

    def clear_cookie(self, name: str) -> None:
        self.set_cookies.append(
            clear_cookie(name, secure=self.settings.cookie_secure, path=self.mount.cookie_path)
        )

    @property
    def tr(self) -> Translator:
        """Chosen on first use, so a page that renders nothing resolves no brand."""
        if self._tr is None:
            self._tr = Translator(self.language)
        return self._tr

    @property
    def language(self) -> str:
        """The reader's cookie; else, before sign-in on a company's own screen
        (custom domain or ``/b/<slug>/``), the brand's ``default_locale``; else
        Accept-Language; else English (docs/brands.md, "Language")."""
        chosen = self.cookies.get(LANGUAGE_COOKIE)
        if chosen in LANGUAGES:
            return str(chosen)
        if self.principal is None and self.brand.company_id is not None:
            return self.brand.config.default_locale
        return pick_language(None, self.accept_language)

    @property
    def brand(self) -> ResolvedBrand:
        """Signed in: the user's company; else the Host, the slug, the default."""
        if self._brand is None:
            host = self.request.headers.get("host") if self.request.headers else None
            company = self.principal.company_id if self.principal else None
            self._brand = deps().brands.for_request(host, self.slug, company)
        return self._brand

    @property
    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def client(self) -> str:
        identity = (self.request.context or {}).get("identity") or {}
        return str(identity.get("sourceIp") or "unknown")

    @property
    def caller(self) -> Caller:
        """The browser signing in, for Cognito's threat protection."""
        headers: Any = self.request.headers or {}
        sent = tuple(
            (name, str(headers[name])[:MAX_FIELD_CHARS])
            for name in ("user-agent", "accept-language", "host")
            if headers.get(name)
        )
        return Caller(self.client, str(headers.get("host") or ""), self.mount.app_path, sent)

    @property
    def query(self) -> dict[str, str]:
        raw: dict[str, str] = dict(self.request.query_params or {})
        return {k: str(v)[:MAX_FIELD_CHARS] for k, v in list(raw.items())[:MAX_FORM_FIELDS]}

    @property
    def form(self) -> dict[str, str]:
        if self._form is None:
            raw = self.request.raw_body or b""
            self._form = parse_form(
                raw.encode() if isinstance(raw, str) else raw, *self.form_limits
            )
        return self._form

    @property
    def csrf_token(self) -> str:
        """Session-bound once signed in; a double-submit cookie before that."""
        if self.session is not None:
            return str(self.session.csrf_token)
        token = self.cookies.get(PRE_SESSION_CSRF_COOKIE)
        if not token:
            token = secrets.token_urlsafe(24)
            self.cookies[PRE_SESSION_CSRF_COOKIE] = token
            self.cookie(PRE_SESSION_CSRF_COOKIE, token, PRE_SESSION_CSRF_MAX_AGE_S)
        return token

    def render(self, template: str, status: int = 200, **context: Any) -> Response:
        body = render(
            self.settings,
            template,
            tr=self.tr,
            lang=self.tr.language,
            html_lang=self.tr.html_lang,
            languages=LANGUAGE_LABELS,
            principal=self.principal,
            csrf_token=self.csrf_token,
            current_path=self.mount.app_path,
            url=self.url,
            brand=self.brand,
            **context,
        )
        return Response(
            body=body, status_code=status, headers={"Content-Type": "text/html; charset=utf-8"}
        )

    def redirect(self, path: str, **params: str) -> Response:
        """To an app path (``/portal``), under this request's mount."""
        location = self.url(path, **params)
        return Response(body="", status_code=303, headers={"Location": location})


def parse_form(
    raw: bytes, max_fields: int = MAX_FORM_FIELDS, max_bytes: int = MAX_FORM_BYTES
) -> dict[str, str]:
    if len(raw) > max_bytes:
        raise InvalidFormError("form too large")
    try:
        parsed = parse_qs(
            raw.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=max_fields,
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidFormError("malformed form") from exc
    form = {k: v[0] for k, v in parsed.items()}
    if any(len(v) > MAX_FIELD_CHARS for v in form.values()):
        raise InvalidFormError("field too long")
    return form


def page(
    bp: Blueprint,
    path: str,
    roles: frozenset[Role],
    methods: tuple[str, ...] = ("GET",),
    audience: str = "staff",
    form_limits: tuple[int, int] = (MAX_FORM_FIELDS, MAX_FORM_BYTES),
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Register a page: path, allowed roles, session check, CSRF on POST; a form of many
    rows (the tariff editor) declares its own ``form_limits`` (fields, bytes)."""

    def register(func: Callable[..., Response]) -> Callable[..., Response]:
        for method in methods:
            ROUTE_ACCESS[(method, path)] = roles
            PAGE_ROUTES.add((method, path))

        @functools.wraps(func)
        def view(**params: str) -> Response:
            return _serve(bp.current_request, func, roles, audience, params, form_limits)

        kw: dict[str, Any] = {}
        if "POST" in methods:
            # application/json is chalice's default for a request without a
            # Content-Type (every GET); a JSON POST still fails the CSRF check.
            kw["content_types"] = [FORM, "application/json"]
        bp.route(path, methods=list(methods), **kw)(view)
        return func

    return register


def _serve(
    request: Request,
    func: Callable[..., Response],
    roles: frozenset[Role],
    audience: str,
    params: dict[str, str],
    form_limits: tuple[int, int] = (MAX_FORM_FIELDS, MAX_FORM_BYTES),
) -> Response:
    settings = deps().web_settings
    headers = request.headers
    cookies = read_cookies(headers.get("cookie") if headers else None)
    ctx = PageContext(
        request=request,
        settings=settings,
        cookies=cookies,
        accept_language=headers.get("accept-language") if headers else None,
        form_limits=form_limits,
    )
    try:
        if roles is not PUBLIC:
            _authenticate(ctx, roles)
        if request.method == "POST":
            _check_csrf(ctx)
        response = func(ctx, **params)
    except NotSignedInError:
        target = TENANT_SIGN_IN if audience == "tenant" else STAFF_SIGN_IN
        response = ctx.redirect(target)
    except (NotFoundError, InvalidIdentifierError):
        response = ctx.render(
            "error.html", status=404, title=ctx.tr.t("not_found"), text=ctx.tr.t("not_found_text")
        )
    except (ForbiddenError, NoMembershipError):
        response = ctx.render(
            "error.html", status=403, title=ctx.tr.t("forbidden"), text=ctx.tr.t("forbidden_text")
        )
    except CompanySuspendedAccessError:
        response = ctx.render(
            "error.html",
            status=403,
            title=ctx.tr.t("forbidden"),
            text=ctx.tr.t("company_suspended"),
        )
    except CsrfError:
        response = ctx.render(
            "error.html", status=403, title=ctx.tr.t("forbidden"), text=ctx.tr.t("session_expired")
        )
    except (InvalidFormError, InvalidCursorError):
        response = ctx.render("error.html", status=400, title=ctx.tr.t("bad_request"), text="")
    return _finish(ctx, response)


def _authenticate(ctx: PageContext, roles: frozenset[Role]) -> None:
    session_id = ctx.cookies.get(SESSION_COOKIE, "")
    try:
        session = deps().web_sessions.get(session_id, ctx.now)
    except NotFoundError as exc:
        raise NotSignedInError("no valid session") from exc
    # with the company's status and the user's session epoch: a suspension, a password
    # change or a sign-out everywhere ends this session at once
    try:
        ctx.principal = deps().principals.load(
            session.company_id,
            session.user_sub,
            session.email,
            frozenset(Role),
            issued_at_ms=int(session.created_at.timestamp() * 1000),
        )
    except SessionRevokedError as exc:
        _end_session(ctx, session_id)
        raise NotSignedInError("the session ended") from exc
    # the second line behind CloudTrail's events (minutes late): every few minutes ask
    # Cognito whether the login was deleted, disabled or made to reset its password
    revocation = deps().session_revocation
    checked_s = int(session.account_checked_at_s or session.created_at.timestamp())
    if revocation.recheck_due(checked_s, ctx.now):
        if not revocation.in_good_standing(session.company_id, session.user_sub, ctx.now):
            _end_session(ctx, session_id)
            raise NotSignedInError("the account changed in Cognito")
        deps().web_sessions.mark_account_checked(session_id, ctx.now)
    ctx.session = session
    ctx.principal.require(roles)  # refused as this signed-in user: their brand's 403 page


def _end_session(ctx: PageContext, session_id: str) -> None:
    deps().web_sessions.delete(session_id)
    ctx.clear_cookie(SESSION_COOKIE)


def _check_csrf(ctx: PageContext) -> None:
    sent = ctx.form.get(CSRF_FIELD, "")
    if ctx.session is not None:
        expected = str(ctx.session.csrf_token)
    else:
        expected = ctx.cookies.get(PRE_SESSION_CSRF_COOKIE, "")
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise CsrfError("missing or wrong CSRF token")


def _finish(ctx: PageContext, response: Response) -> Response:
    headers = dict(response.headers or {})
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    if ctx.set_cookies:
        headers["Set-Cookie"] = list(ctx.set_cookies)
    response.headers = headers
    return response
