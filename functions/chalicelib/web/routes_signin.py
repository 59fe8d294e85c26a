"""Sign-in screens (staff and tenant), first sign-in, forgotten password, sign-out."""

from __future__ import annotations

from urllib.parse import quote

from chalice import Blueprint, Response

from ..application.sign_in_throttle import is_username
from ..auth.cognito_signin import Tokens
from ..auth.errors import (
    MfaCodeRejectedError,
    MfaCodeRequiredError,
    MfaSetupRequiredError,
    NewPasswordRequiredError,
    NoPortalAccessError,
    PasswordRejectedError,
    ResetCodeRejectedError,
    SignInFailedError,
    SignInThrottledError,
    WrongSignInScreenError,
)
from ..auth.principal import Role
from ..data.errors import NotFoundError
from ..routing.access import ANY_SIGNED_IN, PUBLIC
from ..routing.dependencies import deps
from .cookies import DEVICE_COOKIE, LANGUAGE_COOKIE, SESSION_COOKIE
from .i18n import LANGUAGES
from .pages import STAFF_SIGN_IN, TENANT_SIGN_IN, PageContext, page
from .redirects import local_target
from .render import branding_dir, static_asset

bp = Blueprint(__name__)

AUDIENCES = {"staff": STAFF_SIGN_IN, "tenant": TENANT_SIGN_IN}
HOME = {"staff": "/portal", "tenant": "/tenant"}
LANGUAGE_MAX_AGE_S = 365 * 86_400


@page(bp, "/", PUBLIC)
def root(ctx: PageContext) -> Response:
    return ctx.redirect(STAFF_SIGN_IN)


@page(bp, "/static/portal.css", PUBLIC)
def stylesheet(ctx: PageContext) -> Response:
    css = static_asset(str(branding_dir(ctx.settings)), "portal.css")
    return Response(
        body=css,
        status_code=200,
        headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": "max-age=3600"},
    )


@page(bp, "/lang/{code}", PUBLIC)
def choose_language(ctx: PageContext, code: str) -> Response:
    if code not in LANGUAGES:
        raise NotFoundError("no such language")
    ctx.cookie(LANGUAGE_COOKIE, code, LANGUAGE_MAX_AGE_S)
    # only a path of this app (redirect() puts the mount in front): never an open redirect
    return ctx.redirect(local_target(ctx.query.get("next")))


@page(bp, STAFF_SIGN_IN, PUBLIC, methods=("GET", "POST"))
def staff_sign_in(ctx: PageContext) -> Response:
    return _sign_in_screen(ctx, "staff")


@page(bp, TENANT_SIGN_IN, PUBLIC, methods=("GET", "POST"), audience="tenant")
def tenant_sign_in(ctx: PageContext) -> Response:
    return _sign_in_screen(ctx, "tenant")


def _sign_in_screen(ctx: PageContext, audience: str) -> Response:
    if ctx.request.method == "GET":
        notice = "reset_done" if ctx.query.get("reset") == "1" else None
        notice = "mfa_ready" if ctx.query.get("mfa") == "1" else notice
        return ctx.render("signin.html", audience=audience, error=None, notice=notice, email="")
    email = ctx.form.get("email", "").strip()
    password = ctx.form.get("password", "")
    throttle = deps().sign_in_throttle
    account = _account_of(email)
    device = ctx.cookies.get(DEVICE_COOKIE)
    trusted = False
    try:
        trusted = throttle.reserve(account, ctx.client, ctx.now, device)
        if not is_username(email):
            raise SignInFailedError("the username is not an e-mail address")
        tokens = deps().sign_in.sign_in(email, password, ctx.caller)
    except SignInThrottledError as exc:
        return ctx.render(
            "signin.html",
            status=429,
            audience=audience,
            error=_throttled_text(ctx, exc),
            notice=None,
            email=email,
        )
    except SignInFailedError:  # the reserved attempt stays counted
        return ctx.render(
            "signin.html",
            status=401,
            audience=audience,
            error=ctx.tr.t("signin_failed"),
            notice=None,
            email=email,
        )
    except MfaCodeRequiredError as challenge:  # the attempt stays counted until the code
        return _mfa_form(ctx, audience, challenge.challenge_session, challenge.username)
    except NewPasswordRequiredError as challenge:
        _succeeded(ctx, account, device if trusted else None)
        return _new_password_form(ctx, audience, challenge.challenge_session, challenge.username)
    _succeeded(ctx, account, device if trusted else None)
    return _establish(ctx, tokens, audience, email, ctx.form.get("setup_mfa") == "yes")


def _mfa_form(
    ctx: PageContext, audience: str, challenge: str, username: str, error: str | None = None
) -> Response:
    return ctx.render(
        "mfa.html",
        status=401 if error else 200,
        audience=audience,
        challenge=challenge,
        username=username,
        error=error,
    )


@page(bp, "/signin/mfa", PUBLIC, methods=("POST",))
def mfa_code(ctx: PageContext) -> Response:
    """The second step: the authenticator's code, on the account's sign-in budget."""
    audience = ctx.form.get("audience", "staff")
    audience = audience if audience in AUDIENCES else "staff"
    challenge, username = ctx.form.get("challenge", ""), ctx.form.get("username", "")
    throttle = deps().sign_in_throttle
    account = deps().sign_in.account_of(username) if username else "email:"
    device = ctx.cookies.get(DEVICE_COOKIE)
    try:
        trusted = throttle.reserve(account, ctx.client, ctx.now, device)
        tokens = deps().sign_in.complete_mfa(challenge, username, ctx.form.get("code", "").strip())
    except SignInThrottledError as exc:
        error = _throttled_text(ctx, exc)
        return _mfa_form(ctx, audience, challenge, username, error)
    except MfaCodeRejectedError:
        return _mfa_form(ctx, audience, challenge, username, ctx.tr.t("mfa_wrong"))
    except SignInFailedError:
        return ctx.redirect(AUDIENCES[audience])
    _succeeded(ctx, account, device if trusted else None)
    return _establish(ctx, tokens, audience, username)


def _mfa_setup_form(
    ctx: PageContext,
    audience: str,
    access: str,
    secret: str,
    username: str,
    required: bool,
    error: str | None = None,
) -> Response:
    issuer = quote(ctx.brand.config.display_name)
    uri = f"otpauth://totp/{issuer}:{quote(username)}?secret={quote(secret)}&issuer={issuer}"
    return ctx.render(
        "mfa_setup.html",
        status=400 if error else 200,
        audience=audience,
        access=access,
        secret=secret,
        username=username,
        otpauth_uri=uri,
        required=required,
        error=error,
    )


@page(bp, "/signin/mfa-setup", PUBLIC, methods=("POST",))
def mfa_setup(ctx: PageContext) -> Response:
    """Confirm a new authenticator with its first code; then sign in again, with a code."""
    audience = ctx.form.get("audience", "staff")
    audience = audience if audience in AUDIENCES else "staff"
    access, secret = ctx.form.get("access", ""), ctx.form.get("secret", "")
    username = ctx.form.get("username", "")
    try:
        deps().sign_in.confirm_totp(access, ctx.form.get("code", "").strip())
    except MfaCodeRejectedError:
        error = ctx.tr.t("mfa_wrong")
        return _mfa_setup_form(ctx, audience, access, secret, username, False, error)
    except SignInFailedError:
        return ctx.redirect(AUDIENCES[audience])
    return ctx.redirect(f"{ctx.brand.path_prefix}{AUDIENCES[audience]}", mfa="1")


def _throttled_text(ctx: PageContext, exc: SignInThrottledError) -> str:
    minutes = max(1, (exc.retry_after_s + 59) // 60)
    return ctx.tr.plural("signin_throttled", minutes, minutes=minutes)


def _account_of(email: str) -> str:
    """The throttle's key for a typed username: its canonical user. Only an address is a
    username here; anything else (Cognito's other aliases) is not looked up."""
    if is_username(email):
        return deps().sign_in.account_of(email)
    return "email:" + email.lower()


def _succeeded(ctx: PageContext, account: str, trusted_device: str | None) -> None:
    """The password was right: forget the failures, and trust this browser from now on."""
    issued = deps().sign_in_throttle.succeeded(account, ctx.client, ctx.now, trusted_device)
    if issued is not None:
        ctx.cookie(DEVICE_COOKIE, issued, ctx.settings.trusted_device_s)


def _new_password_form(
    ctx: PageContext, audience: str, challenge: str, username: str, error: str | None = None
) -> Response:
    return ctx.render(
        "new_password.html",
        status=400 if error else 200,
        audience=audience,
        challenge=challenge,
        username=username,
        error=error,
    )


@page(bp, "/signin/new-password", PUBLIC, methods=("POST",))
def new_password(ctx: PageContext) -> Response:
    audience = ctx.form.get("audience", "staff")
    audience = audience if audience in AUDIENCES else "staff"
    challenge = ctx.form.get("challenge", "")
    username = ctx.form.get("username", "")
    try:
        tokens = deps().sign_in.complete_new_password(
            challenge, username, ctx.form.get("new_password", "")
        )
    except PasswordRejectedError:
        return _new_password_form(
            ctx, audience, challenge, username, error=ctx.tr.t("password_rejected")
        )
    except SignInFailedError:
        return ctx.redirect(AUDIENCES[audience])
    return _establish(ctx, tokens, audience, username)


def _establish(
    ctx: PageContext, tokens: Tokens, audience: str, email: str, setup_mfa: bool = False
) -> Response:
    """Verify the ID token, find the role, open the server-side session; first set up an
    authenticator when asked to (staff), or when a company admin has none."""
    sign_in = deps().sign_in

    def needs_mfa_setup(role: Role) -> bool:
        wanted = (setup_mfa and role is not Role.TENANT) or (
            ctx.settings.admins_need_mfa and role is Role.COMPANY_ADMIN
        )
        return wanted and not sign_in.has_totp(tokens.access_token)

    try:
        session_id = deps().portal_sessions.open(
            tokens.id_token,
            audience,
            ctx.brand.company_id,
            ctx.now,
            ctx.settings.session_lifetime_s,
            needs_mfa_setup,
        )
    except MfaSetupRequiredError:
        secret = sign_in.begin_totp(tokens.access_token)
        return _mfa_setup_form(ctx, audience, tokens.access_token, secret, email, not setup_mfa)
    except WrongSignInScreenError:
        key = "wrong_screen_staff" if audience == "staff" else "wrong_screen_tenant"
        return ctx.render(
            "signin.html",
            status=403,
            audience=audience,
            error=ctx.tr.t(key),
            notice=None,
            email=email,
        )
    except NoPortalAccessError:
        return ctx.render(
            "signin.html",
            status=403,
            audience=audience,
            error=ctx.tr.t("no_access"),
            notice=None,
            email=email,
        )
    ctx.cookie(SESSION_COOKIE, session_id, ctx.settings.session_lifetime_s)
    if ctx.cookies.get(LANGUAGE_COOKIE) not in LANGUAGES and ctx.brand.company_id is not None:
        # Signed in on the company's own screen, which opened in the brand's
        # language: the portal keeps that language (until the reader picks one).
        ctx.cookie(LANGUAGE_COOKIE, ctx.tr.language, LANGUAGE_MAX_AGE_S)
    return ctx.redirect(HOME[audience])


@page(bp, "/signout", ANY_SIGNED_IN, methods=("POST",))
def sign_out(ctx: PageContext) -> Response:
    deps().portal_sessions.close(ctx.cookies.get(SESSION_COOKIE, ""))
    ctx.clear_cookie(SESSION_COOKIE)
    audience = "tenant" if ctx.principal and ctx.principal.role is Role.TENANT else "staff"
    return ctx.redirect(AUDIENCES[audience])


@page(bp, "/signout/everywhere", ANY_SIGNED_IN, methods=("POST",))
def sign_out_everywhere(ctx: PageContext) -> Response:
    """Every session and token of this user, on every device, ends now."""
    assert ctx.principal is not None  # a signed-in page
    deps().session_revocation.sign_out_everywhere(ctx.principal, ctx.now)
    return sign_out(ctx)


@page(bp, "/password/forgot", PUBLIC, methods=("GET", "POST"))
def forgot_password(ctx: PageContext) -> Response:
    return forgot_password_screen(ctx)


@page(bp, "/password/reset", PUBLIC, methods=("GET", "POST"))
def reset_password(ctx: PageContext) -> Response:
    return reset_password_screen(ctx)


def forgot_password_screen(ctx: PageContext) -> Response:
    """Also served under ``/b/<slug>/``: redirects keep the brand's prefix."""
    if ctx.request.method == "GET":
        return ctx.render("forgot.html", error=None)
    email = ctx.form.get("email", "").strip()
    deps().sign_in.forgot_password(email)
    return ctx.redirect(f"{ctx.brand.path_prefix}/password/reset", email=email, sent="1")


def reset_password_screen(ctx: PageContext) -> Response:
    if ctx.request.method == "GET":
        notice = "code_sent" if ctx.query.get("sent") == "1" else None
        return ctx.render("reset.html", email=ctx.query.get("email", ""), error=None, notice=notice)
    email = ctx.form.get("email", "").strip()
    throttle = deps().sign_in_throttle
    account = _account_of(email)
    device = ctx.cookies.get(DEVICE_COOKIE)
    trusted = False
    try:
        # guessing reset codes is guessing credentials: same budget
        trusted = throttle.reserve(account, ctx.client, ctx.now, device)
        deps().sign_in.confirm_forgot_password(
            email, ctx.form.get("code", "").strip(), ctx.form.get("new_password", "")
        )
    except SignInThrottledError as exc:
        error = _throttled_text(ctx, exc)
        return ctx.render("reset.html", status=429, email=email, error=error, notice=None)
    except ResetCodeRejectedError:  # the reserved attempt stays counted
        error = ctx.tr.t("code_rejected")
        return ctx.render("reset.html", status=400, email=email, error=error, notice=None)
    except PasswordRejectedError:
        error = ctx.tr.t("password_rejected")
        return ctx.render("reset.html", status=400, email=email, error=error, notice=None)
    _succeeded(ctx, account, device if trusted else None)
    # whoever knew the old password (or held a session or token) is out from now on
    deps().session_revocation.account_changed(email, ctx.now)
    return ctx.redirect(f"{ctx.brand.path_prefix}{STAFF_SIGN_IN}", reset="1")
