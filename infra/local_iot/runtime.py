"""LocalIot: broker + rule routing + shadow service + presence events, started and stopped together."""

from __future__ import annotations

import json
import logging
import os
import socket
import tempfile
from pathlib import Path
from typing import Any

import boto3

from .broker import Mosquitto
from .broker_log import BrokerEvent
from .dead_letters import DeadLetters
from .errors import LocalIotError
from .handlers import HandlerRegistry
from .mqtt_link import MqttLink
from .pki import LocalCa
from .policy_gate import PolicyGate, PolicySource
from .presence import PresenceTracker
from .publishers import PublisherLedger
from .router import RuleRouter
from .rule_files import load_rule_files
from .settings import ENV_IOT_DATA_ENDPOINT, LocalIotSettings
from .shadow_http import ShadowApiServer
from .shadow_service import REQUEST_FILTERS, ShadowService

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalIot:
    """What AWS IoT Core does for Powerlet, on loopback. ``app`` is the Chalice app."""

    def __init__(
        self,
        settings: LocalIotSettings,
        app: Any,
        sqs_client: Any | None = None,
        policies: PolicySource | None = None,
    ) -> None:
        """``policies``: the IoT policies attached to a certificate; by default the ones
        the stack deploys (policies.py)."""
        self.settings = settings
        self._app = app
        self._sqs = sqs_client
        if policies is None:
            # Here, not at import: the documents come from the functions' code
            # (chalicelib), which `python -m local_iot shadows` does not need.
            from .policies import deployed_policies

            policies = deployed_policies(settings.region, settings.stage)
        self._policies = policies
        self.ca: LocalCa | None = None
        self.gate: PolicyGate | None = None
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self.broker: Mosquitto | None = None
        self.router: RuleRouter | None = None
        self.shadows: ShadowService | None = None
        self._link: MqttLink | None = None
        self._api: ShadowApiServer | None = None
        self.mqtt_port = settings.mqtt_port or free_port()
        self.internal_mqtt_port = settings.internal_mqtt_port or free_port()

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> LocalIot:
        try:
            self._start()
        except Exception:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        settings = self.settings
        rules = load_rule_files(settings.rules_dir)
        registry = HandlerRegistry(self._app, settings.function_arn_prefix())
        sqs = self._sqs or boto3.client("sqs", region_name=settings.region)
        queue_urls = {
            logical_id: sqs.create_queue(QueueName=name)["QueueUrl"]  # idempotent
            for logical_id, name in settings.resolved_queue_names().items()
        }
        for rule in rules:
            if rule.error_queue_logical_id not in queue_urls:
                raise LocalIotError(
                    f"{rule.path}: ErrorAction queue {rule.error_queue_logical_id!r} has no local queue"
                )
        internal = {settings.internal_client_id}
        ledger = PublisherLedger(lambda topic: self.router is not None and self.router.wants(topic))
        self.router = RuleRouter(
            rules,
            registry,
            DeadLetters(sqs, queue_urls),
            ledger,
            settings.router_limits(),
            internal_client_ids=internal,
        )
        presence = PresenceTracker(self._publish_json, internal_client_ids=internal)

        def on_broker_event(event: BrokerEvent) -> None:
            ledger.on_broker_event(event)
            presence.on_broker_event(event)

        workdir = settings.workdir
        if workdir is None:
            self._tempdir = tempfile.TemporaryDirectory(prefix="local-iot-")
            workdir = Path(self._tempdir.name)
        self.broker = Mosquitto(
            self.internal_mqtt_port, workdir, on_broker_event, settings.broker_log
        )
        self.broker.start()
        self.ca = LocalCa(settings.pki_dir or workdir / "pki")
        self.gate = PolicyGate(
            self.mqtt_port,
            self.internal_mqtt_port,
            self.ca.server_credentials(),
            self._policies,
            settings.iot_arn_prefix(),
        )
        self.gate.start()
        self.shadows = ShadowService(lambda topic, payload: self._publish(topic, payload, 1))
        self._link = MqttLink(
            self.internal_mqtt_port,
            settings.internal_client_id,
            [*self.router.topic_filters, *REQUEST_FILTERS],
            self._on_message,
        )
        self._api = ShadowApiServer(self.shadows, settings.shadow_api_port, self._publish)
        self._api.start()
        # The handlers run in this process: their boto3 ``iot-data`` client must reach this
        # emulation, not the AWS stand-in, and before the first message is routed (a client
        # is created once and cached by the functions' services).
        os.environ[ENV_IOT_DATA_ENDPOINT] = self._api.endpoint
        self.router.start()
        self._link.start()
        log.info(
            "local IoT up: devices mqtts 127.0.0.1:%d (CA %s), internal mqtt %d, iot-data %s, "
            "rules %s, handlers %s",
            self.mqtt_port,
            self.ca.ca_path,
            self.internal_mqtt_port,
            self._api.endpoint,
            [r.name for r in rules],
            registry.names,
        )

    def stop(self) -> None:
        if self._api:
            self._api.stop()
            self._api = None
        if self._link:
            self._link.stop()
            self._link = None
        if self.router:
            self.router.stop()
        if self.gate:
            self.gate.stop()
            self.gate = None
        if self.broker:
            self.broker.stop()
            self.broker = None
        if self._tempdir:
            self._tempdir.cleanup()
            self._tempdir = None

    def __enter__(self) -> LocalIot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what other processes need -------------------------------------------------------

    @property
    def iot_data_endpoint(self) -> str:
        if self._api is None:
            raise LocalIotError("the local IoT is not started")
        return self._api.endpoint

    def env(self) -> dict[str, str]:
        """Variables that point unchanged cloud code (boto3 ``iot-data``) at this emulation."""
        return {ENV_IOT_DATA_ENDPOINT: self.iot_data_endpoint}

    # --- internals -----------------------------------------------------------------------

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        assert self.shadows is not None and self.router is not None
        self.shadows.on_message(topic, payload, retained)
        self.router.on_message(topic, payload, retained)

    def _publish(self, topic: str, payload: bytes, qos: int) -> None:
        if self._link is None:
            log.error("dropped a publish to %s: the MQTT link is not up", topic)
            return
        self._link.publish(topic, payload, qos=min(qos, 1))

    def _publish_json(self, topic: str, message: dict[str, Any]) -> None:
        self._publish(topic, json.dumps(message, separators=(",", ":")).encode(), 1)
