"""The whole local system as an object: ``make run`` and the end-to-end tier both start it.

Order: AWS stand-in -> seeded data -> local IoT (broker, rules, shadows,
presence) -> simulated meter buses -> gateway components (plain MQTT) -> the
API under chalice's local server, served under the API Gateway stage and at
the root (``local_run.api_gateway``). Everything the cloud code needs reaches it through
endpoint variables only.
"""

from __future__ import annotations

import os
import socket
import sys
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local_aws.resources import ProvisionedStack
from local_aws.stack import LocalStack, free_port
from local_iot.pki import DeviceCredentials, LocalCa

from .gateways import LocalGateway
from .supervisor import Child, Supervisor, http_ok, read_env_file, wait_until

REPO = Path(__file__).resolve().parents[2]
STEPS = 6
READY_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class SystemOptions:
    state_dir: Path
    aws_port: int = 0  # 0: any free port
    api_port: int = 0
    mqtt_port: int = 0
    shadow_port: int = 0
    time_scale: float = 30.0  # simulated s per wall s, unless a gateway says otherwise
    # Extra environment of every process that runs cloud code (e.g. a short settlement period).
    cloud_env: Mapping[str, str] = field(default_factory=dict)
    start_api: bool = True
    # Fixed ports the seeded buses' simulators will listen on (checked up front too).
    bus_ports: tuple[int, ...] = ()


class PortsInUseError(RuntimeError):
    """A fixed port the system must listen on is taken, most often by another
    ``make run`` (or one that did not stop): found before anything starts, because a
    stand-in that cannot bind would leave the seed writing to the other run's."""


def ports_in_use(ports: Iterable[tuple[str, int]]) -> list[str]:
    """``name port`` of each (name, port) something already listens on."""
    taken: list[str] = []
    for name, port in ports:
        with socket.socket() as probe:
            # as the servers bind: a connection a stopped run left in TIME_WAIT is no
            # obstacle to them, only a listener is
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind(("127.0.0.1", port))
                probe.listen(1)
            except OSError:
                taken.append(f"{name} {port}")
    return taken


@dataclass
class Seeded:
    """What a seed function hands back: anything to show, and the buses to run."""

    info: dict[str, Any]
    gateways: list[LocalGateway]


SeedFn = Callable[[ProvisionedStack], Seeded]
Progress = Callable[[int, str], None]


def quiet(_n: int, _text: str) -> None:
    """Progress sink for tests."""


class LocalSystem:
    def __init__(self, options: SystemOptions, progress: Progress = quiet) -> None:
        self.options = options
        self._progress = progress
        self.aws_port = options.aws_port or free_port()
        self.api_port = options.api_port or free_port()
        self.mqtt_port = options.mqtt_port or free_port()  # devices: TLS, policies enforced
        self.internal_mqtt_port = free_port()  # mosquitto itself: the emulation, observers
        self.shadow_port = options.shadow_port or free_port()
        self.logs = options.state_dir / "logs"
        self.supervisor = Supervisor(self.logs)
        self.stack = LocalStack(port=self.aws_port)
        self.seeded: Seeded | None = None
        self.cloud_env: dict[str, str] = {}
        self._base_env: dict[str, str] = {}
        self._gateway_children: dict[str, Child] = {}
        self.started_in_s: float | None = None
        self.ca: LocalCa | None = None

    def _check_ports(self) -> None:
        opts = self.options
        fixed = [
            ("AWS stand-in", opts.aws_port),
            ("API and portal", opts.api_port if opts.start_api else 0),
            ("MQTT", opts.mqtt_port),
            ("shadow service", opts.shadow_port),
            *(("simulated bus", port) for port in opts.bus_ports),
        ]
        taken = ports_in_use((name, port) for name, port in fixed if port)
        if taken:
            raise PortsInUseError(
                f"already in use: {', '.join(taken)}. Another `make run` (or one that did "
                "not stop) holds them: stop it (Ctrl-C in its terminal), or choose other "
                "ports (POWERLET_AWS_PORT, POWERLET_API_PORT, POWERLET_MQTT_PORT)."
            )

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def gateways(self) -> list[LocalGateway]:
        return self.seeded.gateways if self.seeded else []

    def start(self, seed: SeedFn) -> LocalSystem:
        began = time.monotonic()
        opts = self.options
        self._check_ports()
        state = opts.state_dir
        self.logs.mkdir(parents=True, exist_ok=True)
        self._progress(1, f"AWS stand-in (moto) on 127.0.0.1:{self.aws_port}")
        resources = self.stack.start(log_path=self.logs / "aws-standin.log")

        self._progress(2, "demo data: companies, properties, units, meters, tenancies, logins")
        self.seeded = seed(resources)
        stack_env_file = state / "stack.env"
        stack_env_file.write_text(
            "".join(f"{k}={v}\n" for k, v in sorted(self.stack.env().items()))
        )

        self._progress(
            3,
            f"local IoT: MQTT over TLS on {self.mqtt_port} (IoT policies enforced), rules, "
            "shadow service, presence",
        )
        # Created here, before local_iot loads it: the CA signs each gateway's certificate.
        self.ca = LocalCa(state / "iot-pki")
        iot_env_file = state / "iot.env"
        iot_env_file.unlink(missing_ok=True)
        self._base_env = {
            **os.environ,
            **self.stack.env(),
            **opts.cloud_env,
            "PYTHONPATH": _import_path(),
        }
        iot = self.supervisor.start(
            "local-iot",
            [
                sys.executable,
                "-m",
                "local_iot",
                "--mqtt-port",
                str(self.mqtt_port),
                "--internal-mqtt-port",
                str(self.internal_mqtt_port),
                "--pki-dir",
                str(self.ca.directory),
                "--shadow-api-port",
                str(self.shadow_port),
                "--env-file",
                str(stack_env_file),
                "--write-env",
                str(iot_env_file),
            ],
            self._base_env,
        )
        wait_until("the local IoT", iot_env_file.exists, iot, READY_TIMEOUT_S)
        self.cloud_env = {**self._base_env, **read_env_file(iot_env_file)}

        gateways = self.gateways
        meter_count = sum(len(g.meters) for g in gateways)
        self._progress(
            4, f"simulated meters: {len(gateways)} buses, {meter_count} meters over Modbus TCP"
        )
        for gw in gateways:
            self._start_simulator(gw)

        self._progress(5, "gateway components (MQTT over TLS, each with its thing's certificate)")
        for gw in gateways:
            self.start_gateway(gw.name)

        if opts.start_api:
            self._progress(6, f"API and portal on 127.0.0.1:{self.api_port} (at / and /api/)")
            self._start_api()
        self.started_in_s = time.monotonic() - began
        return self

    def _start_simulator(self, gw: LocalGateway) -> None:
        time_scale = gw.time_scale if gw.time_scale is not None else self.options.time_scale
        sim = self.supervisor.start(
            f"simulator-{gw.name}",
            [
                sys.executable,
                "-m",
                "meter_gateway.simulator",
                "--tcp",
                f"127.0.0.1:{gw.modbus_port}",
                "--meters",
                gw.simulator_spec(),
                "--initial-kwh",
                gw.initial_kwh(),
                "--time-scale",
                str(time_scale),
                "--control",
                f"127.0.0.1:{gw.control_port}",
            ],
            self._base_env,
        )
        wait_until(f"simulator {gw.name}", port_open(gw.control_port), sim, READY_TIMEOUT_S)
        wait_until(f"simulator {gw.name}", port_open(gw.modbus_port), sim, READY_TIMEOUT_S)

    def start_gateway(self, name: str) -> None:
        """Start (or restart) one gateway component; its spool and state survive a restart."""
        gw = self.gateway(name)
        config = gw.write_config(
            self.options.state_dir / "gateways" / gw.name,
            self.mqtt_port,
            self.gateway_credentials(name),
        )
        self._gateway_children[name] = self.supervisor.start(
            f"gateway-{gw.name}",
            [sys.executable, "-m", "meter_gateway", "--config", str(config)],
            self._base_env,
        )

    def gateway_credentials(self, name: str) -> DeviceCredentials:
        """The certificate of the gateway's thing (as fleet provisioning or the API issues
        one in AWS), signed by the local CA."""
        if self.ca is None:
            raise RuntimeError("the local CA is made when the system starts")
        return self.ca.issue(str(self.gateway(name).gateway.thing_name))

    def stop_gateway(self, name: str) -> None:
        self.supervisor.stop(self._gateway_children.pop(name))

    def gateway(self, name: str) -> LocalGateway:
        return next(g for g in self.gateways if g.name == name)

    def _start_api(self) -> None:
        api = self.supervisor.start(
            "api",
            # chalice's local server with API Gateway's paths: under /api and at the root
            [
                sys.executable,
                "-m",
                "local_run.api_gateway",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.api_port),
                "--stage",
                "local",
            ],
            self.cloud_env,
            cwd=REPO / "functions",
        )
        wait_until("the API", http_ok(f"{self.api_url}/health"), api, READY_TIMEOUT_S)

    def stop(self) -> None:
        self.supervisor.stop_all()
        self.stack.stop()


def port_open(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            return sock.connect_ex(("127.0.0.1", port)) == 0

    return check


def _import_path() -> str:
    """The children import the repo's packages whether or not our caller set PYTHONPATH
    (``make`` does; pytest only sets its own ``sys.path``)."""
    roots = [str(REPO / d) for d in ("functions", "greengrass_component", "infra")] + [str(REPO)]
    existing = os.environ.get("PYTHONPATH")
    return os.pathsep.join(roots + ([existing] if existing else []))
