"""Published utility tariffs as versioned data (one JSON file per template, loaded by
``chalicelib.domain.templates``). Every version names its source; see docs/tariffs.md."""
