"""How figures are written in the pages: exact decimal rounding, never float artefacts."""

from __future__ import annotations

import re
import textwrap
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

_KEEP = "\x00"  # a space that textwrap must not break at
ORDINALS = ("", "", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth")


def dec(value: float, places: int = 0, grouped: bool = True) -> str:
    """``value`` rounded half-up to ``places`` decimals, from its shortest repr (so 6.35
    gives 6.4, not 6.3), with thousands separators unless ``grouped`` is false."""
    exact = Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{exact:,}" if grouped else f"{exact}"


def count(value: float) -> str:
    """A count or a per-item figure: whole numbers without decimals, else two places."""
    return dec(value) if float(value).is_integer() else dec(value, 2)


def as_given(value: float) -> str:
    """The value exactly as the JSON holds it, without exponent (1.66667e-05 -> 0.0000166667)."""
    return format(Decimal(repr(value)), "f")


def fraction(value: float) -> str:
    """A share such as 0.125 or 1/3 as a small fraction: ``1/8``, ``1/3``."""
    share = Fraction(value).limit_denominator(12)
    return str(share)


def seconds_from_ms(value: float, places: int = 1) -> str:
    return dec(value / 1000, places)


def ordinal_slowest(rank: int) -> str:
    """1 -> 'slowest', 2 -> 'second-slowest'."""
    if rank == 1:
        return "slowest"
    word = ORDINALS[rank] if rank < len(ORDINALS) else f"{rank}th"
    return f"{word}-slowest"


def met(flag: bool) -> str:
    return "met" if flag else "**missed**"


def price(value: float) -> str:
    """A list price as the price page writes it: at least cents, every digit kept."""
    exact = Decimal(repr(value))
    places = max(2, -int(exact.as_tuple().exponent))
    return format(exact.quantize(Decimal(1).scaleb(-places)), "f")


def exact_sum(values: list[float]) -> float:
    """Sum the decimals the JSON holds without binary error (0.00135 + 0.000405 ...)."""
    return float(sum((Decimal(repr(v)) for v in values), Decimal(0)))


def reflow(markdown: str, width: int = 92) -> str:
    """Wrap prose paragraphs and list items to ``width``; tables, headings, comments and
    indented code stay as written. Lets the renderers write a sentence per source line."""
    out: list[str] = []
    block: list[str] = []
    indent = ""

    def flush() -> None:
        nonlocal block, indent
        if block:
            text = " ".join(line.strip() for line in block)
            # a code span is never broken across lines
            text = re.sub(r"`[^`]*`", lambda m: m.group(0).replace(" ", _KEEP), text)
            out.extend(
                line.replace(_KEEP, " ")
                for line in textwrap.wrap(
                    text,
                    width=width,
                    initial_indent=indent,
                    subsequent_indent=" " * len(indent),
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        block, indent = [], ""

    for line in markdown.split("\n"):
        kept = not line.strip() or line.startswith(("|", "#", "<!--", "    ", "\t", "```"))
        item = line.startswith(("- ", "* "))
        if kept or item:
            flush()
        if kept:
            out.append(line)
        elif item:
            indent, block = line[:2], [line[2:]]
        else:
            block.append(line)
    flush()
    return "\n".join(out)
