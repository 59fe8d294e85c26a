"""Messages by key in the reader's language, plural forms by the language's rule,
and templates bound to the reader's catalogue on every render."""

from __future__ import annotations

from pathlib import Path

import pytest

from chalicelib.web.i18n import Translator
from chalicelib.web.render import environment

BRANDING = Path(__file__).resolve().parents[3] / "branding"


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (0, "About 0 days left at your recent usage"),
        (1, "About 1 day left at your recent usage"),
        (2, "About 2 days left at your recent usage"),
        (1001, "About 1,001 days left at your recent usage"),
    ],
)
def test_english_has_a_singular_for_one_only(n: int, text: str) -> None:
    en = Translator("en")
    assert en.plural("days_left", n, days=en.number(n)) == text
    assert en.ngettext("days_left", "days_left", n, days=en.number(n)) == text


def test_traditional_chinese_has_one_form_for_every_count() -> None:
    zh = Translator("zh_TW")
    assert [zh.plural("day_count", n, days=n) for n in (0, 1, 5)] == ["0 天", "1 天", "5 天"]
    assert zh.plural("signin_throttled", 1, minutes=1) == "失敗次數過多，請在 1 分鐘後再試。"


def test_the_sign_in_lockout_counts_its_minutes() -> None:
    en = Translator("en")
    assert en.plural("signin_throttled", 1, minutes=1).endswith("Try again in 1 minute.")
    assert en.plural("signin_throttled", 15, minutes=15).endswith("Try again in 15 minutes.")


def test_placeholders_named_like_the_arguments_still_fill() -> None:
    # tier_n's placeholder is {n}: the message arguments are positional-only
    assert Translator("en").t("tier_n", n=2) == "tier 2"
    assert Translator("en").gettext("tier_n", n=2) == "tier 2"


def test_unknown_languages_and_keys_fall_back() -> None:
    assert Translator("klingon").language == "en"
    assert Translator("zh_TW").t("no_such_message") == "no_such_message"
    assert Translator("zh_TW").t("sign_in") == "登入"


def test_templates_translate_with_the_catalogue_of_each_render() -> None:
    # GIVEN the one cached environment every request shares
    env = environment(str(BRANDING))
    page = env.from_string(
        '{{ _("sign_in") }} / {{ ngettext("days_left", "days_left", n, days=n) }}'
    )
    en, zh = Translator("en"), Translator("zh_TW")
    # WHEN two readers' pages render from it
    english = page.render(gettext=en.gettext, ngettext=en.ngettext, n=1)
    chinese = page.render(gettext=zh.gettext, ngettext=zh.ngettext, n=3)
    # THEN each has its own language, and plurals follow each language's rule
    assert english == "Sign in / About 1 day left at your recent usage"
    assert chinese == "登入 / 依最近用量約可使用 3 天"
    # and no reader's catalogue was left on the environment for the next render
    assert "gettext" not in env.globals and "ngettext" not in env.globals
