"""Failures of the settings editors, one class per failure mode."""

from __future__ import annotations


class SettingsError(Exception):
    """Base of every settings-editor failure."""


class InvalidSettingsError(SettingsError, ValueError):
    """A value the domain refuses; ``field`` names it (``friendly_hours.weekly.2``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
