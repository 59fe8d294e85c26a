"""Who published each message: IoT SQL's clientid(), recovered from the broker's log.

MQTT does not tell a subscriber who published. mosquitto logs
``Received PUBLISH from <client> (..., '<topic>', ... (<n> bytes))`` before it
forwards the message, so per topic the log order is the delivery order: the
router claims the oldest logged publish on the same topic with the same size.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from .broker_log import BrokerEvent, PublishReceived

MAX_PENDING_PER_TOPIC = 1_000
MAX_TOPICS = 10_000


class PublisherLedger:
    def __init__(self, wanted: Callable[[str], bool]) -> None:
        self._wanted = wanted  # only topics some rule reads; nobody claims the others
        self._cond = threading.Condition()
        self._pending: OrderedDict[str, deque[tuple[str, int]]] = OrderedDict()

    def on_broker_event(self, event: BrokerEvent) -> None:
        if not isinstance(event, PublishReceived) or not self._wanted(event.topic):
            return
        with self._cond:
            queue = self._pending.get(event.topic)
            if queue is None:
                if len(self._pending) >= MAX_TOPICS:
                    self._pending.popitem(last=False)
                queue = self._pending[event.topic] = deque(maxlen=MAX_PENDING_PER_TOPIC)
            self._pending.move_to_end(event.topic)
            queue.append((event.client_id, event.size_bytes))
            self._cond.notify_all()

    def claim(self, topic: str, size_bytes: int, timeout_s: float) -> str | None:
        """The publisher of the next message on ``topic``; None if the log never said."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            while True:
                queue = self._pending.get(topic)
                while queue:
                    client_id, logged_size = queue.popleft()
                    if logged_size == size_bytes:
                        return client_id
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)
