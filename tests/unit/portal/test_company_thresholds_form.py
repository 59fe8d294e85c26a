"""The company's thresholds form read into its request model: amounts in the brand's
currency as the property form reads them, an empty field as "none", every unreadable
field named."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from chalicelib.application.settings_edit import CompanyThresholds
from chalicelib.web.settings_forms import FormErrors, company_form, company_update


def test_amounts_in_major_units_become_minor_units_highest_first() -> None:
    update = company_update({"version": "3", "thresholds": "20.5, 80 80"}, "TWD")
    assert (update.version, update.low_credit_thresholds_minor) == (3, [8000, 2050])


def test_an_empty_field_is_no_thresholds_not_inherit() -> None:
    update = company_update({"version": "0", "thresholds": "  "}, "TWD")
    assert update.low_credit_thresholds_minor == []


def test_every_unreadable_field_is_named_at_once() -> None:
    with pytest.raises(FormErrors) as raised:
        company_update({"version": "x", "thresholds": "ten"}, "TWD")
    assert set(raised.value.errors) == {"version", "thresholds"}


def test_an_ambiguous_comma_is_refused_not_guessed() -> None:
    with pytest.raises(FormErrors) as raised:
        company_update({"version": "0", "thresholds": "1,000"}, "TWD")
    assert "comma separates" in raised.value.errors["thresholds"]


def test_too_many_amounts_are_the_models_refusal() -> None:
    typed = ", ".join(str(n) for n in range(1, 18))
    with pytest.raises(ValidationError, match="at most 16"):
        company_update({"version": "0", "thresholds": typed}, "TWD")


def test_the_stored_thresholds_show_as_the_form_reads_them() -> None:
    stored = CompanyThresholds("co", [8000, 2050], 4, [], [], {}, True)
    shown = company_form(stored, "TWD")
    assert shown == {"version": "4", "thresholds": "80.00, 20.50"}
    again = company_update(shown, "TWD")
    assert (again.version, again.low_credit_thresholds_minor) == (4, [8000, 2050])
