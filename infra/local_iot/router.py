"""Rule routing: every message on a rule's topic filter -> SQL -> the rule's Lambda handler.

Like AWS: a rule whose WHERE is false does nothing; a message that the Lambda
action cannot deliver goes to the rule's error action; Lambda is invoked
asynchronously (handlers run on worker threads, so order is not guaranteed
across messages), a handler that raises is retried, and after the last attempt
the event goes to the on-failure destination (the same dead-letter queue here).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from .dead_letters import DeadLetters
from .errors import DeadLetterError, HandlerNotFoundError, SqlEvaluationError
from .handlers import HandlerRegistry, LambdaContext
from .iot_sql import MessageContext, RawPayload
from .publishers import PublisherLedger
from .rule_files import LoadedRule

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RouterLimits:
    workers: int = 4
    backlog_max: int = 1_000  # messages waiting for SQL, and invocations waiting for a worker
    enqueue_timeout_s: float = 5.0
    retry_attempts: int = 2  # AWS Lambda's default for asynchronous invocations
    retry_delay_ms: int = 200  # AWS waits minutes; locally a short, growing pause
    # How long to wait for the broker log to name a publisher. The line precedes the
    # message, so this is spent only if mosquitto's log falls behind; generous, because
    # ingest refuses a message without clientid() (docs/iot-contracts.md).
    publisher_wait_ms: int = 2_000


@dataclass(frozen=True)
class _Inbound:
    topic: str
    payload: bytes
    received_at_ms: int


@dataclass(frozen=True)
class _Invocation:
    rule: LoadedRule
    logical_id: str
    event: Any
    topic: str
    payload: bytes
    client_id: str | None


_STOP = object()


class RuleRouter:
    def __init__(
        self,
        rules: Sequence[LoadedRule],
        registry: HandlerRegistry,
        dead_letters: DeadLetters,
        ledger: PublisherLedger | None,
        limits: RouterLimits = RouterLimits(),
        internal_client_ids: Collection[str] = (),
        clock_ms: Callable[[], int] = lambda: time.time_ns() // 1_000_000,
    ) -> None:
        self.rules = [r for r in rules if r.enabled]
        self._registry = registry
        self._dead_letters = dead_letters
        self._ledger = ledger
        self._limits = limits
        self._internal = frozenset(internal_client_ids)
        self._clock_ms = clock_ms
        self._inbound: queue.Queue[Any] = queue.Queue(maxsize=limits.backlog_max)
        self._work: queue.Queue[Any] = queue.Queue(maxsize=limits.backlog_max)
        self._threads: list[threading.Thread] = []
        self._busy = 0
        self._idle = threading.Condition()
        self.stats: Counter[str] = Counter()

    @property
    def topic_filters(self) -> list[str]:
        return sorted({rule.query.topic_filter for rule in self.rules})

    def wants(self, topic: str) -> bool:
        return any(rule.query.applies_to(topic) for rule in self.rules)

    def start(self) -> None:
        self._threads = [threading.Thread(target=self._intake, name="rules-intake", daemon=True)]
        self._threads += [
            threading.Thread(target=self._worker, name=f"rules-worker-{n}", daemon=True)
            for n in range(self._limits.workers)
        ]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._inbound.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []

    def on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        # A retained message replayed to our subscription is not a new publish: rules skip it.
        if retained or not self.wants(topic):
            return
        self._mark_busy(+1)
        try:
            self._inbound.put(
                _Inbound(topic, payload, self._clock_ms()), timeout=self._limits.enqueue_timeout_s
            )
        except queue.Full:
            self._mark_busy(-1)
            self.stats["dropped_backlog_full"] += 1
            log.error(
                "rules backlog full (%d): dropped a message on %s", self._limits.backlog_max, topic
            )

    def wait_idle(self, timeout_s: float) -> bool:
        """True once every accepted message has been fully handled (tests, benchmarks)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout=timeout_s)

    # --- threads ---------------------------------------------------------------------

    def _intake(self) -> None:
        while True:
            item = self._inbound.get()
            if item is _STOP:
                for _ in range(self._limits.workers):
                    self._work.put(_STOP)
                return
            try:
                self._route(item)
            except Exception:
                log.exception("routing a message on %s failed", item.topic)
            finally:
                self._mark_busy(-1)

    def _route(self, message: _Inbound) -> None:
        self.stats["received"] += 1
        client_id = None
        if self._ledger is not None:
            client_id = self._ledger.claim(
                message.topic, len(message.payload), self._limits.publisher_wait_ms / 1000
            )
            if client_id is None:
                self.stats["publisher_unknown"] += 1
                log.warning(
                    "the broker log never named who published a message on %s: clientid() "
                    "is undefined for it",
                    message.topic,
                )
            elif client_id in self._internal:
                client_id = None  # published by the emulated AWS services themselves
        context = MessageContext(message.topic, message.payload, client_id, message.received_at_ms)
        for rule in self.rules:
            if not rule.query.applies_to(message.topic):
                continue
            try:
                result = rule.query.evaluate(context)
            except SqlEvaluationError as exc:
                self._rule_failed(rule, context, str(exc))
                continue
            if result is None:
                self.stats["where_false"] += 1
                continue
            if isinstance(result, RawPayload):
                self._rule_failed(
                    rule, context, "the Lambda action needs a JSON payload; this one is binary"
                )
                continue
            for logical_id in rule.function_logical_ids:
                self._mark_busy(+1)
                self._work.put(
                    _Invocation(rule, logical_id, result, message.topic, message.payload, client_id)
                )

    def _worker(self) -> None:
        while True:
            item = self._work.get()
            if item is _STOP:
                return
            try:
                self._invoke(item)
            except Exception:
                log.exception("invoking %s failed outside the handler", item.logical_id)
            finally:
                self._mark_busy(-1)

    def _invoke(self, call: _Invocation) -> None:
        try:
            handler = self._registry.resolve(call.logical_id)
        except HandlerNotFoundError as exc:
            self._rule_failed(
                call.rule,
                MessageContext(call.topic, call.payload, call.client_id, 0),
                str(exc),
                failed_resource=self._registry.arn_for(call.logical_id),
            )
            return
        attempts = 1 + self._limits.retry_attempts
        error: BaseException | None = None
        request_id = ""
        for attempt in range(1, attempts + 1):
            context = LambdaContext(handler.name, handler.function_arn)
            request_id = context.aws_request_id
            event = json.loads(json.dumps(call.event))  # Lambda gets JSON, never our objects
            try:
                handler.function(event, context)
            except Exception as exc:
                error = exc
                self.stats["handler_errors"] += 1
                log.warning("%s raised (attempt %d/%d): %r", handler.name, attempt, attempts, exc)
                if attempt < attempts:
                    time.sleep(self._limits.retry_delay_ms * attempt / 1000)
                continue
            self.stats["invoked"] += 1
            return
        assert error is not None
        try:
            self._dead_letters.invocation_failed(
                queue_logical_id=call.rule.error_queue_logical_id,
                function_arn=handler.function_arn,
                request_id=request_id,
                attempts=attempts,
                event=call.event,
                error=error,
            )
            self.stats["dead_lettered"] += 1
        except DeadLetterError:
            log.exception("LOST: %s failed and its event could not be dead-lettered", handler.name)

    def _rule_failed(
        self,
        rule: LoadedRule,
        message: MessageContext,
        reason: str,
        failed_resource: str | None = None,
    ) -> None:
        self.stats["rule_errors"] += 1
        log.warning("rule %s failed on %s: %s", rule.name, message.topic, reason)
        try:
            self._dead_letters.rule_action_failed(
                queue_logical_id=rule.error_queue_logical_id,
                rule_name=rule.name,
                topic=message.topic,
                client_id=message.client_id,
                payload=message.payload,
                failed_resource=failed_resource
                or ", ".join(self._registry.arn_for(i) for i in rule.function_logical_ids),
                error_message=reason,
            )
            self.stats["dead_lettered"] += 1
        except DeadLetterError:
            log.exception(
                "LOST: rule %s failed and the message could not be dead-lettered", rule.name
            )

    def _mark_busy(self, change: int) -> None:
        with self._idle:
            self._busy += change
            if self._busy == 0:
                self._idle.notify_all()
