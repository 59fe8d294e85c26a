"""A brand's stylesheet: CSS custom properties only.

Every value went through ``BrandColours`` (exactly ``#rrggbb``), and the
property names are fixed here, so nothing a brand supplies can close the rule
or start another one. Served as a file, not inline, because the portal's
Content-Security-Policy allows ``style-src 'self'`` only.
"""

from __future__ import annotations

import re

from .schema import BrandConfig

_SAFE_VALUE = re.compile(r"^#[0-9a-f]{6}$")


def theme_css(config: BrandConfig) -> str:
    lines = []
    for name, value in config.css_variables.items():
        if not _SAFE_VALUE.fullmatch(value):  # unreachable after validation; never emit it
            raise ValueError(f"unsafe CSS value for {name}")
        lines.append(f"  {name}: {value};")
    return ":root {\n" + "\n".join(lines) + "\n}\n"
