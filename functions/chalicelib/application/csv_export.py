"""Bills and statements as CSV files for spreadsheets and accounting tools.

Choices (docs/portal.md, "Bills, statements and notifications"):
- UTF-8 with a byte-order mark: Excel opens a BOM-less UTF-8 file in the
  system's code page and garbles Chinese unit names and memos; other tools
  skip the BOM. Lines end with CRLF (RFC 4180, the csv module's default).
- Column names are fixed English identifiers (a file is data, not a page);
  amounts are decimal strings in major units with the currency's own number of
  decimals and a currency column; kWh keep their 3 decimals; times are ISO 8601
  in the property's zone, with the offset.
- Formula injection: a text cell that begins with = + - @, a tab or a carriage
  return is prefixed with an apostrophe, so a memo or a unit name can never run
  as a formula. Numbers are written by this module from Decimal/int and are
  left as they are (a negative amount stays a number).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from ..domain.money import to_major
from .bills import BillDetail
from .statements import Statement

BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_TEXT_CHARS = 500
_FILENAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")

Cell = str | int | Decimal | date | datetime | None

BILL_COLUMNS = (
    "bill_id",
    "unit_id",
    "unit_name",
    "period_start",
    "period_end",
    "record",
    "line",
    "code",
    "season",
    "tier",
    "tier_upto_kwh",
    "band",
    "fixed_charge",
    "quantity",
    "quantity_unit",
    "unit_price",
    "amount",
    "currency",
    "tariff_id",
    "tariff_kind",
    "opening_reading_at",
    "opening_kwh",
    "closing_reading_at",
    "closing_kwh",
)

STATEMENT_COLUMNS = (
    "account_id",
    "unit_id",
    "unit_name",
    "month",
    "record",
    "occurred_at",
    "entry_id",
    "kind",
    "memo",
    "reading_from_at",
    "reading_to_at",
    "from_kwh",
    "to_kwh",
    "energy_kwh",
    "amount",
    "balance_after",
    "currency",
)


def safe_text(value: str) -> str:
    """A text cell a spreadsheet will show, never evaluate."""
    text = value[:MAX_TEXT_CHARS]
    return "'" + text if text.startswith(FORMULA_START) else text


def cell(value: Cell, tz: str = "UTC") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | Decimal):
        return str(value)  # produced here from numbers, so no formula can hide in it
    if isinstance(value, datetime):
        return value.astimezone(ZoneInfo(tz)).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return safe_text(str(value))


def _write(columns: Sequence[str], rows: Iterable[Sequence[Cell]], tz: str) -> str:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([cell(v, tz) for v in row])
    return out.getvalue()


def filename(*parts: str) -> str:
    stem = "-".join(_FILENAME_UNSAFE.sub("_", part) for part in parts if part)
    return f"{stem[:120]}.csv"


def bill_csv(bill: BillDetail) -> str:
    s = bill.summary
    cur = bill.currency
    head: list[Cell] = [s.bill_id, bill.unit.unit_id, bill.unit.name, s.period_start, s.last_day]
    opening, closing = bill.opening, bill.closing
    tail: list[Cell] = [
        cur,
        bill.tariff_id,
        bill.tariff_kind,
        opening.at if opening else None,
        opening.cumulative_kwh if opening else None,
        closing.at if closing else None,
        closing.cumulative_kwh if closing else None,
    ]
    rows: list[list[Cell]] = []
    for line in bill.lines:
        rows.append(
            [
                *head,
                "line",
                line.number,
                line.code,
                line.season,
                line.tier,
                line.tier_upto_kwh,
                line.band,
                line.fixed_code,
                line.quantity,
                line.unit,
                line.unit_price,
                to_major(line.amount_minor, cur),
                *tail,
            ]
        )
    for record, amount in (
        ("subtotal", bill.subtotal_minor),
        ("tax", bill.tax_minor),
        ("total", bill.total_minor),
    ):
        blank: list[Cell] = [None] * 10
        rows.append([*head, record, *blank, to_major(amount, cur), *tail])
    return _write(BILL_COLUMNS, rows, bill.premises.time_zone)


def statement_csv(st: Statement) -> str:
    cur = st.currency
    head: list[Cell] = [st.account_id, st.unit.unit_id, st.unit.name, st.month]
    blank: list[Cell] = [None] * 9
    rows: list[list[Cell]] = [
        [*head, "opening", st.start, *blank[1:], None, to_major(st.opening_minor, cur), cur]
    ]
    for line in st.lines:
        e = line.entry
        rows.append(
            [
                *head,
                "entry",
                e.occurred_at,
                e.entry_id,
                e.entry_kind,
                e.memo or "",
                line.window_start,
                line.window_end,
                line.from_kwh,
                line.to_kwh,
                line.energy_kwh,
                to_major(int(e.amount_minor), cur),
                to_major(line.balance_after_minor, cur),
                cur,
            ]
        )
    rows.append([*head, "closing", st.end, *blank[1:], None, to_major(st.closing_minor, cur), cur])
    return _write(STATEMENT_COLUMNS, rows, st.premises.time_zone)
