"""python -m deploy package --stage STAGE [--version V]
python -m deploy deploy --stage STAGE --region REGION --sender-email E [--alarm-email E]
    [--version V] [--iot-data-endpoint https://PREFIX-ats.iot.REGION.amazonaws.com]

python -m deploy redrive --stage STAGE --region REGION [--limit N] [--dry-run]

Without --version the Greengrass component's version is derived from its content.
--sender-email is required and must be verified in SES in REGION (checked first).
"""

from __future__ import annotations

import argparse
import sys

from .errors import DeployError, InventoryError, PackagingError
from .packaging import package
from .redrive import MAX_LETTERS, Redriver, lambda_invoker, queue_name

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
    deploy_cmd.add_argument(
        "--sender-email", required=True, help="From address of alerts, verified in SES"
    )
    deploy_cmd.add_argument("--alarm-email", default=None)
    deploy_cmd.add_argument("--iot-data-endpoint", default=None)
    redrive_cmd = sub.add_parser("redrive", help="send dead letters back (docs/runbook.md)")
    redrive_cmd.add_argument("--stage", required=True)
    redrive_cmd.add_argument("--region", default=DEFAULT_REGION)
    redrive_cmd.add_argument("--limit", type=int, default=100, help="letters to read, 1..10000")
    redrive_cmd.add_argument("--dry-run", action="store_true", help="say what, change nothing")
    args = parser.parse_args(argv)
    if args.command == "redrive":
        if not 0 < args.limit <= MAX_LETTERS:
            parser.error(f"--limit must be 1..{MAX_LETTERS}")
        return _redrive(args.stage, args.region, args.limit, args.dry_run)
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

            parameters = {"SenderEmail": args.sender_email}
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


def _redrive(stage: str, region: str, limit: int, dry_run: bool) -> int:
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    session = boto3.Session(region_name=region)
    sqs = session.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=queue_name(stage))["QueueUrl"]
        invoke = lambda_invoker(session.client("lambda"))
        report = Redriver(sqs, url, invoke, stage).run(limit, dry_run)
    except (BotoCoreError, ClientError) as exc:
        print(f"redrive: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
