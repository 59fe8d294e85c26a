"""The wire client's SigV4 signer against botocore's ``SigV4Auth`` as the oracle: the same
canonical request and the same Authorization header for fixed time and credentials."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import botocore.auth
import pytest
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from chalicelib.data.wire import Credentials, DynamoWire, MissingCredentialsError, Signer
from chalicelib.data.wire.signing import amz_date, canonical_request

AT = datetime(2026, 12, 6, 18, 20, 5, tzinfo=UTC)
NEXT_DAY = datetime(2026, 12, 7, 0, 0, 1, tzinfo=UTC)
PLAIN = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
SESSION = Credentials("ASIAEXAMPLE", "secret/with+signs=", "FwoGZXIvYXdzE//token+/=")
QUERY_BODY = json.dumps(
    {
        "TableName": "powerlet-local",
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :cycles AND :bus",
        "ExpressionAttributeValues": {":pk": {"S": "CO#c1#GWD#gw-1"}, ":u": {"S": "ü ☃"}},
        "Limit": 2,
    },
    separators=(",", ":"),
).encode()


def _oracle(
    monkeypatch: pytest.MonkeyPatch,
    credentials: Credentials,
    url: str,
    headers: dict[str, str],
    body: bytes,
    at: datetime = AT,
    region: str = "ap-northeast-1",
) -> tuple[str, str]:
    """botocore's canonical request and Authorization header for the same request."""
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: at.replace(tzinfo=None))
    boto = BotoCredentials(
        credentials.access_key_id, credentials.secret_access_key, credentials.session_token
    )
    request = AWSRequest(method="POST", url=url, headers=dict(headers), data=body)
    signer = botocore.auth.SigV4Auth(boto, "dynamodb", region)
    seen: list[str] = []
    canonical_of = signer.canonical_request

    def spy(signed: AWSRequest) -> str:
        seen.append(canonical_of(signed))
        return seen[-1]

    signer.canonical_request = spy
    signer.add_auth(request)
    return seen[-1], str(request.headers["Authorization"])


def _headers(
    host: str, operation: str, credentials: Credentials, at: datetime = AT
) -> dict[str, str]:
    headers = {
        "Host": host,
        "X-Amz-Date": amz_date(at),
        "X-Amz-Target": f"DynamoDB_20120810.{operation}",
        "Content-Type": "application/x-amz-json-1.0",
    }
    if credentials.session_token:
        headers["X-Amz-Security-Token"] = credentials.session_token
    return headers


@pytest.mark.parametrize("credentials", [PLAIN, SESSION], ids=["keys", "session token"])
@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://dynamodb.ap-northeast-1.amazonaws.com/", "dynamodb.ap-northeast-1.amazonaws.com"),
        ("http://127.0.0.1:45123/", "127.0.0.1:45123"),
    ],
    ids=["aws", "stand-in"],
)
@pytest.mark.parametrize(
    ("operation", "body"),
    [
        ("Query", QUERY_BODY),
        ("PutItem", b'{"Item":{"m":{"B":"eJzLSM3JyQcABiwCFQ=="}}}'),
        ("GetItem", b""),
    ],
)
def test_the_signature_is_botocores(
    monkeypatch: pytest.MonkeyPatch,
    credentials: Credentials,
    url: str,
    host: str,
    operation: str,
    body: bytes,
) -> None:
    headers = _headers(host, operation, credentials)
    expected_canonical, expected = _oracle(monkeypatch, credentials, url, headers, body)

    canonical, _signed = canonical_request("POST", "/", {}, headers, body)
    signed = Signer("ap-northeast-1", "dynamodb").authorization(
        credentials, "POST", "/", {}, headers, body, amz_date(AT)
    )

    assert canonical == expected_canonical
    assert signed == expected


def test_paths_and_queries_are_canonical_as_botocore_makes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not used by DynamoDB's JSON protocol (always ``POST /``), but the signer takes them:
    the path as sent (percent-encoded once), encoded again as AWS wants for every service
    but S3; the query's names and values decoded, encoded once and sorted."""
    path, query = "/a%20b/~c/%C3%A9", {"b": "2 3", "a": "1/x", "Z": "~"}
    url = "https://example.amazonaws.com/a%20b/~c/%C3%A9?b=2%203&a=1%2Fx&Z=~"
    headers = {"Host": "example.amazonaws.com", "X-Amz-Date": amz_date(AT)}
    expected_canonical, expected = _oracle(monkeypatch, PLAIN, url, headers, b"x")

    canonical, _signed = canonical_request("POST", path, query, headers, b"x")

    assert canonical.split("\n")[2] == expected_canonical.split("\n")[2]  # the query
    assert canonical.split("\n")[1] == expected_canonical.split("\n")[1]  # the path
    assert (
        Signer("ap-northeast-1", "dynamodb").authorization(
            PLAIN, "POST", path, query, headers, b"x", amz_date(AT)
        )
        == expected
    )


def test_the_day_key_follows_the_date_and_the_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cached signing key is per (secret, day): a cached key used past midnight or
    after a credential rotation would sign every request wrong."""
    signer = Signer("eu-west-1", "dynamodb")
    host = "dynamodb.eu-west-1.amazonaws.com"
    url = f"https://{host}/"
    for credentials, at in [(PLAIN, AT), (PLAIN, NEXT_DAY), (SESSION, NEXT_DAY), (PLAIN, AT)]:
        headers = _headers(host, "Query", credentials, at)
        _canonical, expected = _oracle(
            monkeypatch, credentials, url, headers, QUERY_BODY, at, "eu-west-1"
        )
        got = signer.authorization(credentials, "POST", "/", {}, headers, QUERY_BODY, amz_date(at))
        assert got == expected


@pytest.mark.parametrize("credentials", [PLAIN, SESSION], ids=["keys", "session token"])
@pytest.mark.parametrize(
    "endpoint",
    ["http://127.0.0.1:45123", "https://dynamodb.ap-northeast-1.amazonaws.com"],
    ids=["stand-in", "aws"],
)
@pytest.mark.parametrize("body", [QUERY_BODY, b""], ids=["query", "empty"])
def test_the_client_signs_what_it_sends(
    monkeypatch: pytest.MonkeyPatch, credentials: Credentials, endpoint: str, body: bytes
) -> None:
    """The client's signer (canonical request's fixed parts built once) agrees with
    botocore for the headers the client puts on the wire."""
    wire = DynamoWire("t", "ap-northeast-1", endpoint, credentials, clock=lambda: AT)
    headers = wire._signed_headers("Query", body)
    unsigned = {k: v for k, v in headers.items() if k != "Authorization"}
    _canonical, expected = _oracle(monkeypatch, credentials, f"{endpoint}/", unsigned, body)
    assert headers["Authorization"] == expected
    assert headers.get("X-Amz-Security-Token") == credentials.session_token
    request = wire._request("Query", body)
    assert f"\r\nAuthorization: {expected}\r\n".encode() in request
    assert request.endswith(f"\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)


def test_credentials_come_from_the_lambda_environment() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "ASIA1",
        "AWS_SECRET_ACCESS_KEY": "s3cret",
        "AWS_SESSION_TOKEN": "tok",
    }
    assert Credentials.from_env(env) == Credentials("ASIA1", "s3cret", "tok")
    assert Credentials.from_env({**env, "AWS_SESSION_TOKEN": ""}).session_token is None
    assert "s3cret" not in repr(Credentials.from_env(env))
    with pytest.raises(MissingCredentialsError, match="AWS_SECRET_ACCESS_KEY"):
        Credentials.from_env({"AWS_ACCESS_KEY_ID": "ASIA1"})


def test_an_endpoint_that_is_not_http_is_refused() -> None:
    with pytest.raises(ValueError, match="not an http"):
        DynamoWire("t", "ap-northeast-1", "ftp://example", PLAIN)
