"""Local stand-in for what AWS IoT Core does for Powerlet: broker, rules, shadows, presence."""

from .errors import (
    ActionFailedError,
    BrokerStartError,
    DeadLetterError,
    HandlerNotFoundError,
    LocalIotError,
    RuleFileError,
    ShadowRequestError,
    SqlEvaluationError,
    SqlSyntaxError,
    TopicFilterError,
    UnsupportedSqlError,
)
from .rule_files import LoadedRule, load_rule_file, load_rule_files
from .runtime import LocalIot
from .settings import ENV_IOT_DATA_ENDPOINT, LocalIotSettings

__all__ = [
    "ENV_IOT_DATA_ENDPOINT",
    "ActionFailedError",
    "BrokerStartError",
    "DeadLetterError",
    "HandlerNotFoundError",
    "LoadedRule",
    "LocalIot",
    "LocalIotError",
    "LocalIotSettings",
    "RuleFileError",
    "ShadowRequestError",
    "SqlEvaluationError",
    "SqlSyntaxError",
    "TopicFilterError",
    "UnsupportedSqlError",
    "load_rule_file",
    "load_rule_files",
]
