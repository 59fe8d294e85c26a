"""Reading settings from the environment: the base class of the pages' and the reseller
API's settings objects.

Each concern has its own settings object (the functions' ``wiring/settings.py``, the
pages' ``routing/web_settings.py``, the reseller API's ``application/reseller/config.py``),
read once by the composition root. The functions' own is a dataclass read by the standard
library instead: every function's cold start reads it, and a steady ingest message would
import pydantic for it alone (``wiring/settings.py``). Field aliases are the environment variable names,
so the deployment template, the local stand-in and the code agree on one spelling.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Self

from pydantic import AliasChoices, BaseModel, ConfigDict


class EnvSettings(BaseModel):
    """Frozen, validated settings; unknown variables are ignored (the process
    environment holds many that are not ours), empty ones count as unset.

    A plain pydantic model fed the variables its aliases name, not pydantic-settings:
    these are flat strings, numbers and flags, and pydantic-settings (with the asyncio
    it imports) was about 60 ms of every cold start (docs/deploy.md, "Cold start")."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        populate_by_name=True,  # tools and tests may also pass fields by name
    )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Self:
        """The process environment, or (tests, tools) exactly the mapping given. Names
        are case-sensitive: only the variables the aliases spell are read."""
        source = os.environ if env is None else env
        names = cls.env_names()
        return cls.model_validate({k: v for k, v in source.items() if k in names and v != ""})

    @classmethod
    def env_names(cls) -> frozenset[str]:
        """Every environment variable this object reads."""
        names: set[str] = set()
        for field in cls.model_fields.values():
            alias: Any = field.validation_alias
            if isinstance(alias, AliasChoices):
                names.update(str(choice) for choice in alias.choices)
            elif isinstance(alias, str):
                names.add(alias)
        return frozenset(names)
