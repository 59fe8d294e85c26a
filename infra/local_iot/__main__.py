"""``python -m local_iot``: run the local IoT (broker, rules, shadows, presence) until Ctrl-C.

``python -m local_iot shadows [--mqtt-port 1883] [--start-broker]``: only the Device Shadow
service (MQTT and the iot-data HTTP API), for a gateway on a bare broker without the cloud.

Devices connect to ``--mqtt-port`` over TLS with a certificate of the local CA
(``--pki-dir``; policy_gate.py); the emulation and cloud-side observers use mosquitto's own
plain port (``LOCAL_IOT_INTERNAL_MQTT_PORT``).

Handlers run in this process, so it needs the same environment as the functions
(``--env-file .local/stack.env`` from ``python -m local_aws up``). Point the
cloud code at the printed ``AWS_ENDPOINT_URL_IOT_DATA_PLANE`` and the gateway at
the printed MQTT port.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from .errors import LocalIotError
from .settings import REPO_ROOT, LocalIotSettings

DEFAULT_MQTT_PORT = 1883
DEFAULT_SHADOW_API_PORT = 5081


# Chatty at INFO, and never about our system: "Found credentials in environment
# variables" and "Found endpoint for dynamodb" once per client (botocore), pynamodb's
# settings file. Warnings and errors still show.
LIBRARY_LOGGERS = ("botocore", "boto3", "urllib3", "pynamodb")


def quiet_libraries(verbose: bool) -> None:
    if not verbose:
        for name in LIBRARY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)


def readable_app_log() -> None:
    """The handlers' Powertools logger, as one plain line per record: in AWS its JSON is
    for CloudWatch Logs Insights; here a person reads the file. Each record's message
    is already a sentence (an ingested message: gateway, cycle, outcome, readings,
    money). The EMF metric lines are CloudWatch's business: off locally."""
    from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

    from chalicelib.observability import logger

    class SentenceFormatter(LambdaPowertoolsFormatter):
        """Powertools' own formatter (the logger keeps its keys on it: correlation id,
        appended keys), printing the time, the level and the message only."""

        def format(self, record: logging.LogRecord) -> str:
            at = self.formatTime(record)
            return f"{at} app {record.levelname} {record.getMessage()}"

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
    logger.registered_handler.setFormatter(SentenceFormatter())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["shadows"]:
        # Only the shadow service, for a gateway on a bare broker (shadows_only.py).
        from .shadows_only import main as shadows_main

        return shadows_main(argv[1:])
    parser = argparse.ArgumentParser(prog="local_iot", description=__doc__)
    parser.add_argument(
        "--mqtt-port", type=int, default=DEFAULT_MQTT_PORT, help="devices: TLS, policies enforced"
    )
    parser.add_argument(
        "--internal-mqtt-port", type=int, default=0, help="mosquitto itself (0: any free port)"
    )
    parser.add_argument("--pki-dir", type=Path, help="the local CA (default: in the temp dir)")
    parser.add_argument("--shadow-api-port", type=int, default=DEFAULT_SHADOW_API_PORT)
    parser.add_argument("--rules-dir", type=Path, default=REPO_ROOT / "iot_rules")
    parser.add_argument("--stage", default="local")
    parser.add_argument("--env-file", type=Path, help="KEY=VALUE lines to load first")
    parser.add_argument("--write-env", type=Path, help="write the endpoint variables here")
    parser.add_argument("--app-module", default="app", help="module holding the Chalice app")
    parser.add_argument("--broker-log", type=Path, help="copy mosquitto's log here")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s local_iot %(levelname)s %(message)s",
    )
    quiet_libraries(args.verbose)
    if args.env_file:
        os.environ.update(_read_env_file(args.env_file))
    functions_dir = str(REPO_ROOT / "functions")
    if functions_dir not in sys.path:
        sys.path.insert(0, functions_dir)

    from .handlers import import_app
    from .runtime import LocalIot

    app = import_app(args.app_module)
    readable_app_log()

    settings = LocalIotSettings(
        mqtt_port=args.mqtt_port,
        internal_mqtt_port=args.internal_mqtt_port,
        pki_dir=args.pki_dir,
        shadow_api_port=args.shadow_api_port,
        rules_dir=args.rules_dir,
        stage=args.stage,
        region=os.environ.get("AWS_REGION", "ap-northeast-1"),
        broker_log=args.broker_log,
    )
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        iot = LocalIot(settings, app).start()
    except LocalIotError as exc:
        print(f"local_iot: {exc}", file=sys.stderr)
        return 1
    try:
        env = {
            **iot.env(),
            "LOCAL_IOT_MQTT_HOST": "127.0.0.1",
            "LOCAL_IOT_MQTT_PORT": str(iot.mqtt_port),
            "LOCAL_IOT_INTERNAL_MQTT_PORT": str(iot.internal_mqtt_port),
            "LOCAL_IOT_CA_PATH": str(iot.ca.ca_path) if iot.ca else "",
        }
        if args.write_env:
            args.write_env.parent.mkdir(parents=True, exist_ok=True)
            args.write_env.write_text("".join(f"{k}={v}\n" for k, v in sorted(env.items())))
        print(json.dumps(env, indent=2), flush=True)
        stop.wait()
    finally:
        iot.stop()
    return 0


def _read_env_file(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip()
    return values


if __name__ == "__main__":
    sys.exit(main())
