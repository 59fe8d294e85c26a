"""One exception class per failure mode of the local IoT emulation."""

from __future__ import annotations


class LocalIotError(Exception):
    """Base class: anything the local IoT emulation refuses or fails to do."""


class RuleFileError(LocalIotError):
    """A rule file is missing, not JSON, or not a valid topic rule (names file and field)."""


class TopicFilterError(LocalIotError):
    """An MQTT topic filter breaks the MQTT rules for '+' and '#'."""


class SqlSyntaxError(LocalIotError):
    """The rule SQL cannot be parsed."""


class UnsupportedSqlError(SqlSyntaxError):
    """The rule SQL is valid AWS IoT SQL but outside the subset this emulation evaluates."""


class SqlEvaluationError(LocalIotError):
    """The SQL could not be applied to one message (AWS fails the rule: error action)."""


class BrokerStartError(LocalIotError):
    """mosquitto did not start or did not listen in time."""


class HandlerNotFoundError(LocalIotError):
    """A rule's Lambda action names a function the Chalice app does not register."""


class ActionFailedError(LocalIotError):
    """A rule action could not deliver the message (AWS sends it to the error action)."""


class DeadLetterError(LocalIotError):
    """The dead-letter queue could not be written (the message is lost: logged loudly)."""


class ShadowRequestError(LocalIotError):
    """A shadow request is rejected; ``code`` is the AWS error code (400, 404, 409, 413)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CertificateError(LocalIotError):
    """A device certificate cannot be issued (e.g. the name is not a thing name)."""


class MqttProtocolError(LocalIotError):
    """A client sent bytes the gate cannot parse as MQTT 3.1.1 or 5 (the connection closes)."""
