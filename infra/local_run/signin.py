"""Sign a demo user in against the stand-in's user pool and print an ID token.

``python -m local_run.signin EMAIL [PASSWORD]`` then
``curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/v1/me``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import boto3

from local_aws.demo_data import DEMO_PASSWORD

ENV_FILE = Path(__file__).resolve().parents[2] / ".local" / "stack.env"


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    env = dict(line.split("=", 1) for line in ENV_FILE.read_text().splitlines() if "=" in line)
    client = boto3.client(
        "cognito-idp",
        region_name=env["AWS_REGION"],
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    result = client.admin_initiate_auth(
        UserPoolId=env["POWERLET_USER_POOL_ID"],
        ClientId=env["POWERLET_USER_POOL_CLIENT_ID"],
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={
            "USERNAME": argv[0],
            "PASSWORD": argv[1] if len(argv) > 1 else DEMO_PASSWORD,
        },
    )
    print(result["AuthenticationResult"]["IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
