"""Brand assets and the ``/b/<slug>/`` sign-in screens.

The theme and the logo are public (a sign-in screen shows them to anyone) and
cacheable: their URLs carry a version (colour hash, logo content hash), so a
change is a new URL. An unknown slug answers 404, never another brand.
"""

from __future__ import annotations

from chalice import Blueprint, Response

from ..branding.errors import LogoNotFoundError
from ..branding.resolution import DEFAULT, ResolvedBrand
from ..branding.theme import theme_css
from ..data.errors import NotFoundError
from ..routing.access import PUBLIC
from ..routing.dependencies import deps
from .pages import PageContext, page
from .routes_signin import _sign_in_screen, forgot_password_screen, reset_password_screen

bp = Blueprint(__name__)

ASSET_CACHE = "public, max-age=86400"


def _brand_of_slug(slug: str) -> ResolvedBrand:
    if slug == DEFAULT.config.slug:
        return DEFAULT
    brand = deps().brands.for_request(None, slug=slug)
    if brand.via != "slug":
        raise NotFoundError("no such brand")
    return brand


@page(bp, "/brand/{slug}/theme.css", PUBLIC)
def brand_theme(ctx: PageContext, slug: str) -> Response:
    brand = _brand_of_slug(slug)
    return Response(
        body=theme_css(brand.config),
        status_code=200,
        headers={"Content-Type": "text/css; charset=utf-8", "Cache-Control": ASSET_CACHE},
    )


@page(bp, "/brand/{slug}/logo", PUBLIC)
def brand_logo(ctx: PageContext, slug: str) -> Response:
    brand = _brand_of_slug(slug)
    if not brand.config.logo_key:
        raise NotFoundError("no logo")
    try:
        logo = deps().logo_store.get(brand.config.logo_key)
    except LogoNotFoundError as exc:
        raise NotFoundError("no logo") from exc
    return Response(
        body=logo.body,
        status_code=200,
        headers={
            "Content-Type": logo.content_type,
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Disposition": "inline",
        },
    )


@page(bp, "/b/{slug}/signin", PUBLIC, methods=("GET", "POST"))
def branded_staff_sign_in(ctx: PageContext, slug: str) -> Response:
    ctx.slug = slug
    _require_slug(ctx)
    return _sign_in_screen(ctx, "staff")


@page(bp, "/b/{slug}/tenant/signin", PUBLIC, methods=("GET", "POST"), audience="tenant")
def branded_tenant_sign_in(ctx: PageContext, slug: str) -> Response:
    ctx.slug = slug
    _require_slug(ctx)
    return _sign_in_screen(ctx, "tenant")


@page(bp, "/b/{slug}/password/forgot", PUBLIC, methods=("GET", "POST"))
def branded_forgot_password(ctx: PageContext, slug: str) -> Response:
    ctx.slug = slug
    _require_slug(ctx)
    return forgot_password_screen(ctx)


@page(bp, "/b/{slug}/password/reset", PUBLIC, methods=("GET", "POST"))
def branded_reset_password(ctx: PageContext, slug: str) -> Response:
    ctx.slug = slug
    _require_slug(ctx)
    return reset_password_screen(ctx)


def _require_slug(ctx: PageContext) -> None:
    # a custom domain wins over the prefix; otherwise the prefix must name a brand
    if ctx.brand.via not in {"host", "slug"}:
        raise NotFoundError("no such brand")
