"""The brand schema, contrast, theme, host normalisation, resolution order and
logo sniffing: pure code, no AWS."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.api.reseller_access import request_fingerprint
from chalicelib.branding.contrast import contrast_ratio
from chalicelib.branding.errors import InvalidBrandError, LogoRejectedError, LogoTooLargeError
from chalicelib.branding.logos import MAX_LOGO_BYTES, check, logo_key
from chalicelib.branding.resolution import DEFAULT, normalise_host, resolve
from chalicelib.branding.schema import PLATFORM_DEFAULT, BrandColours, BrandConfig, parse_brand
from chalicelib.branding.theme import theme_css
from chalicelib.data.reseller_store import split_key
from chalicelib.domain import CURRENCY_EXPONENTS

BRANDS = Path(__file__).resolve().parents[3] / "branding" / "brands"
HEX = st.text(alphabet="0123456789abcdef", min_size=6, max_size=6).map(lambda s: f"#{s}")


def base(**overrides: object) -> dict[str, object]:
    raw: dict[str, object] = json.loads((BRANDS / "formosa.json").read_text())
    raw.update(overrides)
    return raw


def test_example_brands_and_the_platform_default_are_valid() -> None:
    names = sorted(p.name for p in BRANDS.glob("*.json"))
    assert names == ["formosa.json", "powerlet.json", "thames.json"]
    configs = [parse_brand(json.loads(p.read_text())) for p in BRANDS.glob("*.json")]
    assert PLATFORM_DEFAULT in configs


@given(HEX, HEX)
def test_contrast_is_symmetric_and_between_1_and_21(a: str, b: str) -> None:
    ratio = contrast_ratio(a, b)
    assert ratio == pytest.approx(contrast_ratio(b, a))
    assert 1.0 <= ratio <= 21.0 + 1e-9


def test_contrast_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)


def test_unreadable_colours_are_refused_with_the_pair_named() -> None:
    with pytest.raises(InvalidBrandError, match="primary_text on primary"):
        parse_brand(base(colours={"primary": "#ffff00", "primary_text": "#ffffff"}))


@given(st.text(max_size=30))
def test_only_exact_hex_colours_are_accepted(value: str) -> None:
    try:
        colours = BrandColours(primary=value, primary_text="#ffffff")
    except ValueError:
        return
    assert re.fullmatch(r"#[0-9a-f]{6}", colours.primary)


@given(HEX, HEX)
def test_theme_is_custom_properties_with_hex_values_only(primary: str, text: str) -> None:
    try:
        colours = BrandColours(primary=primary, text=text)
    except ValueError:
        return
    config = PLATFORM_DEFAULT.model_copy(update={"colours": colours})
    lines = theme_css(config).splitlines()
    assert lines[0] == ":root {" and lines[-1] == "}"
    assert all(re.fullmatch(r"  --[a-z-]+: #[0-9a-f]{6};", line) for line in lines[1:-1])


@given(st.text(min_size=1, max_size=60))
def test_accepted_free_text_never_carries_markup_or_template_code(value: str) -> None:
    try:
        config = parse_brand(base(display_name=value, legal_footer=value))
    except InvalidBrandError:
        return
    for text in (config.display_name, config.legal_footer):
        assert not re.search(r"[<>\x00-\x1f\x7f\x85\u2028\u2029\u202a-\u202e]|\{\{|\{%|\{#", text)


@pytest.mark.parametrize(
    "overrides",
    [
        {"custom_domains": ["formosa.localhost:8080"]},
        {"custom_domains": ["evil.example/path"]},
        {"custom_domains": ["user@evil.example"]},
        {"custom_domains": ["a.example"] * 2},
        {"custom_domains": [f"d{i}.example" for i in range(6)]},
        {"support_email": "not-an-address"},
        {"support_phone": "0227001234"},
        {"sms_sender_id": "TooLongSender1"},
        {"sms_sender_id": "12345"},
        {"currency": "XXY"},
        {"currency": "XAU"},  # in Babel's (CLDR's) list, not in the domain's table
        {"currency": "ZWL"},
        {"currency": "twd"},
        {"time_zone": "Mars/Olympus"},
        {"default_locale": "fr"},
        {"slug": "Formosa"},
        {"display_name": ""},
        {"display_name": " padded"},
        {"unknown_field": 1},
    ],
)
def test_malformed_brands_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(InvalidBrandError):
        parse_brand(base(**overrides))


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Formosa.LocalHost:8000", "formosa.localhost"),
        ("portal.example.", "portal.example"),
        ("[::1]:8000", None),
        ("evil.example@formosa.localhost", None),
        ("a b", None),
        ("", None),
        (None, None),
        ("x" * 300, None),
    ],
)
def test_host_headers_are_normalised_or_ignored(raw: str | None, expected: str | None) -> None:
    assert normalise_host(raw) == expected


class FakeSource:
    def __init__(self) -> None:
        self.brands = {
            "co-a": parse_brand(base(slug="co-a")),
            "co-b": parse_brand(base(slug="co-b")),
        }
        self.hosts = {"a.example": "co-a", "orphan.example": "co-gone"}
        self.slugs = {"co-a": "co-a", "co-b": "co-b", "stale": "co-a"}

    def get(self, company_id: str) -> BrandConfig | None:
        return self.brands.get(company_id)

    def company_for_host(self, host: str) -> str | None:
        return self.hosts.get(host)

    def company_for_slug(self, slug: str) -> str | None:
        return self.slugs.get(slug)


def test_resolution_order_company_then_host_then_slug_then_default() -> None:
    src = FakeSource()
    assert resolve(src, "a.example", "co-b", company_id="co-b").company_id == "co-b"
    assert resolve(src, "a.example", "co-b").via == "host"
    assert resolve(src, "unknown.example", "co-b").company_id == "co-b"
    assert resolve(src, "unknown.example", "co-b").path_prefix == "/b/co-b"
    # a binding to a company without a brand, a stale slug, a reserved slug: the default
    assert resolve(src, "orphan.example") is DEFAULT
    assert resolve(src, None, "stale") is DEFAULT
    assert resolve(src, None, "powerlet") is DEFAULT
    assert resolve(src, None, None) is DEFAULT


def image_bytes(fmt: str, size: tuple[int, int] = (8, 4)) -> bytes:
    """A real image file, made by Pillow."""
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", size, (15, 81, 50)).save(out, format=fmt)
    return out.getvalue()


def png_bytes() -> bytes:
    return image_bytes("PNG")


@pytest.mark.parametrize(("fmt", "ext"), [("PNG", "png"), ("JPEG", "jpg"), ("WEBP", "webp")])
def test_logo_types_come_from_magic_bytes(fmt: str, ext: str) -> None:
    data = image_bytes(fmt)
    assert check(data) == ext
    assert re.fullmatch(rf"brands/co-a/logo-[0-9a-f]{{16}}\.{ext}", logo_key("co-a", data, ext))


@pytest.mark.parametrize(
    "data",
    [
        # magic bytes followed by anything: a sniff alone let these through (issue 16)
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        b"\xff\xd8\xff\xe0" + b"\x00" * 64,
        b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x00" * 64,
        b"\x89PNG\r\n\x1a\n" + b"<html><script>alert(1)</script></html>" * 2,
        image_bytes("PNG", (64, 64))[:-40],  # truncated
        b"\x89PNG\r\n\x1a\n" + image_bytes("JPEG")[3:],  # a JPEG behind PNG's magic
    ],
    ids=["png-magic", "jpeg-magic", "webp-magic", "polyglot", "truncated", "mismatch"],
)
def test_a_logo_must_decode_as_the_image_it_claims_to_be(data: bytes) -> None:
    with pytest.raises(LogoRejectedError):
        check(data)


def test_a_decompression_bomb_is_refused() -> None:
    # a tiny file claiming 20,000 x 20,000 pixels (Pillow reads the header first)
    big = image_bytes("PNG", (1, 1))
    bomb = big[:16] + (20_000).to_bytes(4, "big") + (20_000).to_bytes(4, "big") + big[24:]
    with pytest.raises(LogoRejectedError):
        check(bomb)


@pytest.mark.parametrize(
    "data",
    [
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>' * 2,
        b"<?xml version='1.0'?><svg/>" + b" " * 64,
        b"GIF89a" + b"\x00" * 64,
        b"<html><script>alert(1)</script></html>" * 2,
        b"\x89PNG",  # too short to be anything
    ],
)
def test_svg_and_other_files_are_refused(data: bytes) -> None:
    with pytest.raises(LogoRejectedError):
        check(data)


def test_oversized_logos_are_refused() -> None:
    with pytest.raises(LogoTooLargeError):
        check(png_bytes() + b"\x00" * MAX_LOGO_BYTES)


@pytest.mark.parametrize(
    ("raw", "ok"),
    [
        ("plr_0123456789ab_secret-part_with_underscores", True),
        ("plr_0123456789ab_", False),
        ("xyz_0123456789ab_secret", False),
        ("plr_0123_secret", False),
        ("plr_0123456789a!_secret", False),
        ("eyJhbGciOiJSUzI1NiJ9.payload.sig", False),
        ("plr_0123456789ab_" + "s" * 200, False),
    ],
)
def test_api_keys_are_recognised_by_their_shape(raw: str, ok: bool) -> None:
    parts = split_key(raw)
    assert (parts is not None) == ok
    if parts:
        assert parts == ("0123456789ab", "secret-part_with_underscores")


def test_request_fingerprint_ignores_json_layout_but_not_content_or_route() -> None:
    a = request_fingerprint("POST", "/v1/x", b'{"a": 1, "b": [1, 2]}')
    assert a == request_fingerprint("POST", "/v1/x", b'{"b":[1,2],"a":1}')
    assert a != request_fingerprint("POST", "/v1/x", b'{"a": 2, "b": [1, 2]}')
    assert a != request_fingerprint("POST", "/v1/y", b'{"a": 1, "b": [1, 2]}')


def invitation_event(company_id: str | None, role: str = "company_admin") -> dict[str, object]:
    attrs = {"email": "a@b.example", "custom:role": role}
    if company_id:
        attrs["custom:company_id"] = company_id
    return {
        "triggerSource": "CustomMessage_AdminCreateUser",
        "request": {
            "userAttributes": attrs,
            "codeParameter": "{####}",
            "usernameParameter": "{username}",
        },
        "response": {"emailSubject": None, "emailMessage": None, "smsMessage": None},
    }


def test_cognito_invitations_carry_the_company_brand_and_the_placeholders() -> None:
    from chalicelib.application.invitation_messages import custom_message

    formosa = parse_brand(base())
    out = custom_message(invitation_event("formosa"), {"formosa": formosa}.get)
    message = out["response"]["emailMessage"]
    assert out["response"]["emailSubject"] == "Your Formosa Homes account"
    assert "{####}" in message and "{username}" in message
    assert "https://portal.formosa-homes.example/signin" in message
    assert "Powerlet" not in message
    tenant = custom_message(invitation_event("formosa", "tenant"), {"formosa": formosa}.get)
    assert "formosa-homes.example/tenant/signin" in tenant["response"]["emailMessage"]
    # a domain whose DNS ownership check has not passed is never the link
    pending = custom_message(
        invitation_event("formosa"), {"formosa": formosa}.get, lambda _co, _hosts: []
    )
    assert "https://" not in pending["response"]["emailMessage"]
    assert "Formosa Homes" in pending["response"]["emailMessage"]


def test_cognito_messages_fall_back_to_the_platform_and_escape_brand_text() -> None:
    from chalicelib.application.invitation_messages import custom_message

    odd = parse_brand(base(display_name='Tom & Jerry\'s "Homes"'))
    out = custom_message(invitation_event("odd"), {"odd": odd}.get)
    assert "Tom &amp; Jerry&#x27;s &quot;Homes&quot;" in out["response"]["emailMessage"]
    nobody: dict[str, BrandConfig] = {}
    unknown = custom_message(invitation_event(None), nobody.get)
    assert unknown["response"]["emailSubject"] == "Your Powerlet account"
    other = {"triggerSource": "CustomMessage_SignUp", "response": {}}
    assert custom_message(other, nobody.get) is other


def test_a_brand_currency_is_one_the_domain_can_hold() -> None:
    # GIVEN the domain's currency table (domain/money.py), the only source of exponents
    for code in CURRENCY_EXPONENTS:
        assert parse_brand(base(currency=code)).currency == code
    # WHEN a brand names a currency the domain refuses THEN the error names the field
    with pytest.raises(InvalidBrandError, match=r"^currency: .*'XAU' is not a supported currency"):
        parse_brand(base(currency="XAU"))
