"""MQTT topic filters ('+' and '#') and the topic segments that IoT SQL's topic(n) reads."""

from __future__ import annotations

from .errors import TopicFilterError

MAX_TOPIC_LEVELS = 8  # AWS IoT allows at most 7 slashes in a topic
MAX_TOPIC_BYTES = 256


def validate_filter(topic_filter: str) -> str:
    """Return the filter if MQTT and AWS IoT accept it, else raise TopicFilterError."""
    if not topic_filter:
        raise TopicFilterError("a topic filter cannot be empty")
    if len(topic_filter.encode()) > MAX_TOPIC_BYTES:
        raise TopicFilterError(
            f"topic filter longer than {MAX_TOPIC_BYTES} bytes: {topic_filter!r}"
        )
    levels = topic_filter.split("/")
    if len(levels) > MAX_TOPIC_LEVELS:
        raise TopicFilterError(f"more than {MAX_TOPIC_LEVELS} levels: {topic_filter!r}")
    for index, level in enumerate(levels):
        if "#" in level and (level != "#" or index != len(levels) - 1):
            raise TopicFilterError(f"'#' must be a whole last level: {topic_filter!r}")
        if "+" in level and level != "+":
            raise TopicFilterError(f"'+' must be a whole level: {topic_filter!r}")
    return topic_filter


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT 3.1.1 section 4.7 matching, including: wildcards never match a leading '$' level."""
    filter_levels = topic_filter.split("/")
    topic_levels = topic.split("/")
    if topic.startswith("$") and filter_levels[0] in {"+", "#"}:
        return False
    for index, wanted in enumerate(filter_levels):
        if wanted == "#":
            return True
        if index >= len(topic_levels):
            return False
        if wanted not in {"+", topic_levels[index]}:
            return False
    return len(filter_levels) == len(topic_levels)


def topic_segment(topic: str, position: int) -> str | None:
    """IoT SQL topic(n): the n-th level, counted from 1; None (undefined) when out of range."""
    levels = topic.split("/")
    if 1 <= position <= len(levels):
        return levels[position - 1]
    return None
