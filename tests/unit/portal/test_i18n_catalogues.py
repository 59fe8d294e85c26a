"""The message catalogues: every message is in every language with the same
placeholders and complete plural forms, and every message the templates and the
web code ask for exists, of the kind (plain or plural) and with the values they
pass."""

from __future__ import annotations

import ast
import string
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import permutations
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from jinja2 import nodes

from chalicelib.application.power_mode import MODES
from chalicelib.branding.schema import LOCALES
from chalicelib.domain import EntryKind
from chalicelib.domain.energy_balance import BalanceStatus
from chalicelib.domain.prepaid import REASONS
from chalicelib.domain.resale import RESALE_CAPS
from chalicelib.pipeline.alerts import TOPICS
from chalicelib.web.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGE_LABELS,
    LANGUAGES,
    catalogue,
    msgids,
    plural_msgids,
)
from chalicelib.web.i18n.catalogue import LOCALES_DIR
from chalicelib.web.render import environment
from chalicelib.web.routes_alerts import DONE as ALERT_DONE
from chalicelib.web.routes_readings import DONE

REPO = Path(__file__).resolve().parents[3]
BRANDING = REPO / "branding"
WEB = REPO / "functions" / "chalicelib" / "web"
# The keys templates build from a prefix and a domain value.
TEMPLATE_PREFIXES = {
    "kind_",
    "reason_",
    "relay_done_",
    "held_status_",
    "readings_done_",
    "balance_status_",
    "alert_",
    "alert_status_",
    "alert_done_",
    "audience_",
    "mode_choice_",
    "resale_rule_",
}
# The keys templates take whole from a value: routes_signin.py's notices and a
# unit's billing mode (data/models.py Unit.billing_mode).
TEMPLATE_KEY_VARIABLES = {
    "notice": {"reset_done", "code_sent"},
    "d.unit.billing_mode": {"prepaid", "postpaid"},
}


@dataclass(frozen=True)
class Use:
    """One place that asks for a message."""

    where: str
    key: str
    plural: bool
    prefix: bool = False
    variable: bool = False
    values: frozenset[str] | None = None  # None: passed as **mapping, not knowable


def _messages(language: str) -> dict[str, Message]:
    return {_key(m): m for m in catalogue(language) if m.id}


def _key(message: Message) -> str:
    return message.id if isinstance(message.id, str) else message.id[0]


def _forms(message: Message) -> tuple[str, ...]:
    return tuple(message.string) if message.pluralizable else (str(message.string),)


def _placeholders(text: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


def test_the_locale_folders_are_the_languages_and_the_brand_schema_agrees() -> None:
    assert {p.name for p in LOCALES_DIR.iterdir() if p.is_dir()} == set(LANGUAGES)
    assert LOCALES == LANGUAGES
    assert set(LANGUAGE_LABELS) == set(LANGUAGES) and DEFAULT_LANGUAGE in LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_catalogue_declares_its_languages_cldr_plural_rule(language: str) -> None:
    # GIVEN the .po file's Plural-Forms header  THEN it is the rule CLDR gives the language
    assert catalogue(language).plural_forms == Catalog(locale=language).plural_forms
    assert catalogue("en").num_plurals == 2 and catalogue("zh_TW").num_plurals == 1


@pytest.mark.parametrize(("language", "other"), list(permutations(LANGUAGES, 2)))
def test_every_message_is_in_every_language(language: str, other: str) -> None:
    mine, theirs = _messages(language), _messages(other)
    # THEN both languages have the same keys
    assert set(mine) == set(theirs), set(mine) ^ set(theirs)
    for key, message in mine.items():
        counterpart = theirs[key]
        # and each message is plural in both or in neither, ready (not fuzzy) and not empty
        assert message.pluralizable == counterpart.pluralizable, key
        assert not message.fuzzy, key
        forms = _forms(message)
        assert all(form.strip() for form in forms), (language, key)
        # with every plural form the language has, keyed msgid == msgid_plural
        if message.pluralizable:
            assert len(forms) == catalogue(language).num_plurals, (language, key)
            assert message.id[1] == key, key
        # and exactly the same placeholders in every form
        expected = _placeholders(_forms(counterpart)[0])
        assert all(_placeholders(form) == expected for form in forms), (language, key)


def _template_uses() -> Iterator[Use]:
    env = environment(str(BRANDING))
    for path in sorted((BRANDING / "templates").glob("*.html")):
        tree = env.parse(path.read_text(encoding="utf-8"))
        for call in tree.find_all(nodes.Call):
            if not isinstance(call.node, nodes.Name):
                continue
            where = f"{path.name}:{call.lineno}"
            name = call.node.name
            assert name != "t", f"{where}: templates translate with _() and ngettext()"
            if name not in {"_", "gettext", "ngettext"}:
                continue
            values = None if call.dyn_kwargs else frozenset(k.key for k in call.kwargs)
            first = call.args[0]
            if isinstance(first, nodes.Const):
                plural = name == "ngettext"
                if plural:
                    second = call.args[1]
                    assert isinstance(second, nodes.Const) and second.value == first.value, where
                yield Use(where, first.value, plural, values=values)
            elif isinstance(first, nodes.Concat) and isinstance(first.nodes[0], nodes.Const):
                yield Use(where, first.nodes[0].value, plural=False, prefix=True, values=values)
            elif _dotted(first) and name != "ngettext":
                yield Use(where, _dotted(first), plural=False, variable=True, values=values)
            else:
                pytest.fail(f"{where}: write the message key, or a prefix of it, out")


def _dotted(node: nodes.Node) -> str:
    """``d.unit.billing_mode`` for a variable or its attributes; "" for anything else."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        parent = _dotted(node.node)
        return f"{parent}.{node.attr}" if parent else ""
    return ""


def _code_uses() -> Iterator[Use]:
    """Calls of ``.t``, ``.gettext``, ``.plural`` and ``.ngettext`` with a written
    key in the web code; keys built at run time are the label tests' business."""
    methods = {"t": False, "gettext": False, "plural": True, "ngettext": True}
    for path in sorted(WEB.rglob("*.py")):
        for call in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute)):
                continue
            if call.func.attr not in methods or not call.args:
                continue
            first = call.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names = [k.arg for k in call.keywords]
                values = None if None in names else frozenset(n for n in names if n)
                where = f"{path.relative_to(REPO)}:{call.lineno}"
                yield Use(where, first.value, methods[call.func.attr], values=values)


@pytest.mark.parametrize("uses", [_template_uses, _code_uses], ids=["templates", "code"])
def test_every_message_asked_for_exists_as_asked(uses: object) -> None:
    assert callable(uses)
    found: list[Use] = list(uses())
    messages = _messages(DEFAULT_LANGUAGE)
    assert [u for u in found if not u.prefix]
    for use in found:
        if use.variable:
            continue  # test_the_keys_templates_build_from_domain_values_all_exist
        if use.prefix:
            assert any(key.startswith(use.key) for key in messages), use
            continue
        # THEN the key exists, plural where asked for with ngettext, plain where not
        assert use.key in messages, use
        assert messages[use.key].pluralizable == use.plural, use
        # and the values passed are exactly the message's placeholders
        if use.values is not None:
            assert use.values == _placeholders(_forms(messages[use.key])[0]), use


def test_the_keys_templates_build_from_domain_values_all_exist() -> None:
    uses = list(_template_uses())
    assert {u.key for u in uses if u.prefix} == TEMPLATE_PREFIXES
    assert {u.key for u in uses if u.variable} == set(TEMPLATE_KEY_VARIABLES)
    keys = msgids()
    assert set().union(*TEMPLATE_KEY_VARIABLES.values()) <= keys - plural_msgids()
    assert {f"kind_{k.value}" for k in EntryKind} <= keys
    assert {f"reason_{r}" for r in REASONS} <= keys
    assert {f"relay_done_{s}" for s in ("on", "off", "auto")} <= keys
    # a held reading's status (data/models.py HeldReading.status) and the readings page's
    # notices after a decision (the status it leaves) or an exchange (web/routes_readings.py)
    assert {f"held_status_{s}" for s in ("held", "accepted", "rejected", "replaced")} <= keys
    assert {f"readings_done_{s}" for s in DONE} <= keys
    # alerts: each topic's title (the dashboard's groups), a lifecycle status, the notices
    # after acting on one (web/routes_alerts.py DONE), who an alert was for
    assert {f"alert_{t}_title" for t in TOPICS} <= keys
    assert {f"alert_status_{s}" for s in ("open", "acknowledged", "resolved", "notice")} <= keys
    assert {f"alert_done_{s}" for s in ALERT_DONE} <= keys
    assert {"audience_tenant", "audience_staff"} <= keys
    # the power form's modes (application/power_mode.py MODES)
    assert {f"mode_choice_{m}" for m in MODES} <= keys
    # the energy page's verdict per day (domain/energy_balance.py BalanceStatus)
    assert {f"balance_status_{s.value}" for s in BalanceStatus} <= keys
    # the resale cap rule of each market that has one (domain/resale.py RESALE_CAPS)
    assert {f"resale_rule_{m}" for m in RESALE_CAPS} <= keys


def test_the_plural_messages_are_the_counted_ones() -> None:
    # Reviewed list: a new plural message is added here on purpose.
    assert plural_msgids() == {
        "signin_throttled",
        "days_left",
        "days_left_beyond",
        "day_count",
        "held_count",
        "elapsed_seconds",
        "elapsed_minutes",
        "elapsed_hours",
    }
    assert all(plural_msgids(language) == plural_msgids() for language in LANGUAGES)
