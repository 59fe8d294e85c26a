"""python -m deploy package --stage STAGE [--version V]
python -m deploy deploy --stage STAGE --region REGION [--sender-email E] [--alarm-email E]
    [--iot-data-endpoint https://PREFIX-ats.iot.REGION.amazonaws.com]
"""

from __future__ import annotations

import argparse
import sys

from .errors import DeployError, InventoryError, PackagingError
from .packaging import package

DEFAULT_REGION = "ap-northeast-1"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("package", "deploy"):
        cmd = sub.add_parser(name)
        cmd.add_argument("--stage", required=True)
        cmd.add_argument(
            "--version",
            default=None,
            help="Greengrass component version; default: derived from the component's content",
        )
    deploy_cmd = sub.choices["deploy"]
    deploy_cmd.add_argument("--region", default=DEFAULT_REGION)
    deploy_cmd.add_argument("--sender-email", default=None)
    deploy_cmd.add_argument("--alarm-email", default=None)
    deploy_cmd.add_argument("--iot-data-endpoint", default=None)
    args = parser.parse_args(argv)
    try:
        stack = package(args.stage, args.version)
        template = stack.template()
        print(
            f"{stack.template_path} ({len(template['Resources'])} resources, "
            f"{len(stack.functions)} functions, {len(stack.rules)} IoT rules)"
        )
        print(f"{stack.zip_path} ({stack.zip_path.stat().st_size} bytes)")
        print(f"{stack.artifact_path} (component {stack.recipe['ComponentVersion']})")
        if args.command == "deploy":
            from .aws_deploy import deploy

            parameters = {}
            if args.sender_email:
                parameters["SenderEmail"] = args.sender_email
            if args.alarm_email:
                parameters["AlarmEmail"] = args.alarm_email
            if args.iot_data_endpoint:
                parameters["IotDataEndpoint"] = args.iot_data_endpoint
            outputs = deploy(stack, args.region, parameters)
            for key, value in sorted(outputs.items()):
                print(f"{key}={value}")
    except (InventoryError, PackagingError, DeployError) as exc:
        print(f"deploy: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
