"""The local IoT emulation's configuration, read once into one typed object."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from .router import RouterLimits

REPO_ROOT = Path(__file__).resolve().parents[2]
ENV_IOT_DATA_ENDPOINT = "AWS_ENDPOINT_URL_IOT_DATA_PLANE"  # botocore: service id "IoT Data Plane"
DEFAULT_REGION = "ap-northeast-1"
LOCAL_ACCOUNT_ID = "123456789012"  # moto's default account


class LocalIotSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # The device endpoint: TLS, client certificate required, IoT policies enforced.
    mqtt_port: int = Field(default=0, ge=0, le=65535, description="0 = any free port")
    # mosquitto itself, plain MQTT on loopback: the emulation's own client and cloud-side
    # observers (what an IAM principal is in AWS), never a device.
    internal_mqtt_port: int = Field(default=0, ge=0, le=65535, description="0 = any free port")
    shadow_api_port: int = Field(default=0, ge=0, le=65535, description="0 = any free port")
    rules_dir: Path = REPO_ROOT / "iot_rules"
    stage: str = Field(default="local", pattern=r"^[a-z0-9-]{1,32}$")
    region: str = DEFAULT_REGION
    workdir: Path | None = Field(default=None, description="mosquitto's config; None = temp dir")
    # The local CA and issued certificates (pki.py); None = <workdir>/pki.
    pki_dir: Path | None = None
    broker_log: Path | None = None
    internal_client_id: str = "powerlet-local-iot"
    # Rule error actions name their queue by CloudFormation logical id; here, by queue name.
    queue_names: dict[str, str] | None = None
    handler_workers: int = Field(default=4, ge=1, le=64)
    backlog_max: int = Field(default=1_000, ge=1, le=100_000)
    retry_attempts: int = Field(default=2, ge=0, le=2)  # AWS allows 0..2
    retry_delay_ms: int = Field(default=200, ge=0, le=60_000)
    publisher_wait_ms: int = Field(default=2_000, ge=0, le=10_000)

    def resolved_queue_names(self) -> dict[str, str]:
        return self.queue_names or {"DeadLetterQueue": f"powerlet-{self.stage}-dead-letters"}

    def router_limits(self) -> RouterLimits:
        return RouterLimits(
            workers=self.handler_workers,
            backlog_max=self.backlog_max,
            retry_attempts=self.retry_attempts,
            retry_delay_ms=self.retry_delay_ms,
            publisher_wait_ms=self.publisher_wait_ms,
        )

    def iot_arn_prefix(self) -> str:
        return f"arn:aws:iot:{self.region}:{LOCAL_ACCOUNT_ID}:"

    def function_arn_prefix(self) -> str:
        # Chalice deploys @app.lambda_function(name=n) as <app>-<stage>-<n>
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:powerlet-{self.stage}-"
