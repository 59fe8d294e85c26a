"""The committed bench results, read field by field with a clear error for each gap."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import FigureTypeError, MissingFigureError, MissingResultsError

HOW_TO_REFRESH = "rerun `make bench` (or `make soak` for soak.json), or change bench/reports/"


class Figures:
    """One results file. ``figures("ours", "wru_per_reading")`` walks the JSON, and any
    missing step raises ``MissingFigureError`` naming the file and the whole path."""

    def __init__(self, label: str, data: Any) -> None:
        self.label = label
        self._data = data

    def __call__(self, *path: str | int) -> Any:
        value = self._data
        for depth, part in enumerate(path):
            if not _holds(value, part):
                raise MissingFigureError(
                    f"{self.label} has no field {_dotted(path[: depth + 1])}"
                    f" (needed: {_dotted(path)}); {HOW_TO_REFRESH}"
                )
            value = value[part]
        if value is None:
            raise MissingFigureError(f"{self.label}: {_dotted(path)} is null; {HOW_TO_REFRESH}")
        return value

    def number(self, *path: str | int) -> float:
        value = self(*path)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise FigureTypeError(f"{self.label}: {_dotted(path)} is {value!r}, not a number")
        return value

    def text(self, *path: str | int) -> str:
        value = self(*path)
        if not isinstance(value, str):
            raise FigureTypeError(f"{self.label}: {_dotted(path)} is {value!r}, not text")
        return value

    def flag(self, *path: str | int) -> bool:
        value = self(*path)
        if not isinstance(value, bool):
            raise FigureTypeError(f"{self.label}: {_dotted(path)} is {value!r}, not true/false")
        return value

    def mapping(self, *path: str | int) -> dict[str, Any]:
        value = self(*path)
        if not isinstance(value, dict):
            raise FigureTypeError(f"{self.label}: {_dotted(path)} is not an object")
        return value

    def sequence(self, *path: str | int) -> list[Any]:
        value = self(*path)
        if not isinstance(value, list):
            raise FigureTypeError(f"{self.label}: {_dotted(path)} is not a list")
        return value

    def numbers(self, *path: str | int) -> list[float]:
        values = self.sequence(*path)
        for index in range(len(values)):
            self.number(*path, index)
        return values


class BenchResults:
    """``results["ledger_append.json"]``: the file's ``Figures``, read once."""

    def __init__(self, directory: Path, shown_as: str = "bench/results") -> None:
        self.directory = directory
        self._shown_as = shown_as
        self._files: dict[str, Figures] = {}

    def __getitem__(self, filename: str) -> Figures:
        if filename not in self._files:
            self._files[filename] = self._load(filename)
        return self._files[filename]

    def _load(self, filename: str) -> Figures:
        label = f"{self._shown_as}/{filename}"
        path = self.directory / filename
        if not path.is_file():
            raise MissingResultsError(f"{label} is missing; {HOW_TO_REFRESH}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise MissingResultsError(f"{label} cannot be read as JSON: {exc}") from exc
        return Figures(label, data)


def _holds(value: Any, part: str | int) -> bool:
    if isinstance(value, dict):
        return part in value
    return isinstance(value, list) and isinstance(part, int) and -len(value) <= part < len(value)


def _dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(part) for part in path) or "(the file)"
