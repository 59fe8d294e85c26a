"""A brand domain that was served and is dropped (removed, or replaced by another) is
released: its base-path mapping, its API Gateway custom domain and its ACM certificate
are deleted, after the brand is saved; a cleanup that stops half-way is retried by the
next save (application/custom_domains.py, ``release``). Against the AWS stand-in, whose
ACM refuses to delete a certificate a custom domain still uses, as ACM does."""

from __future__ import annotations

import dataclasses
import json
import time
import uuid
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from chalicelib.application.custom_domains import CustomDomains
from chalicelib.wiring.container import Container

from .conftest import DNS, ResellerApi
from .test_reseller_api import company_body

pytestmark = pytest.mark.functional


def _body(response: Any) -> Any:
    return json.loads(response.body)


def _served(api: ResellerApi, co: str, domain: str) -> str:
    """Verify the company's domain and wait for the stand-in's ACM to issue it: the
    domain is then served (custom domain + mapping). Its certificate's ARN."""
    company = _body(api.call("GET", f"/v1/reseller/companies/{co}"))
    (entry,) = [d for d in company["domains"] if d["domain"] == domain]
    DNS.records[entry["challenge"]["name"]] = [entry["challenge"]["value"]]
    path = f"/v1/reseller/companies/{co}/brand/domains/{domain}/verify"
    first = _body(api.call("POST", path))
    time.sleep(1.5)  # the stand-in validates after a second
    second = _body(api.call("POST", path))
    assert second["serving"]["status"] == "ready", second
    return str(first["certificate"]["arn"])


def _brand_with(api: ResellerApi, co: str, domains: list[str]) -> Any:
    brand = _body(api.call("GET", f"/v1/reseller/companies/{co}"))["brand"]
    return api.call(
        "PUT", f"/v1/reseller/companies/{co}/brand", brand | {"custom_domains": domains}
    )


def _gone(call: Any, **params: Any) -> bool:
    try:
        call(**params)
    except ClientError as exc:
        return exc.response["Error"]["Code"] in {"NotFoundException", "ResourceNotFoundException"}
    return False


@pytest.fixture()
def served(reseller_api: ResellerApi) -> tuple[str, str, str]:
    co = f"drop-{uuid.uuid4().hex[:6]}"
    domain = f"portal.{co}.example"
    created = reseller_api.call("POST", "/v1/reseller/companies", company_body(co, [domain]), co)
    assert created.status_code == 201, created.body
    return co, domain, _served(reseller_api, co, domain)


def test_a_replaced_domain_is_released(
    reseller_api: ResellerApi, served: tuple[str, str, str]
) -> None:
    co, domain, certificate = served
    acm, apigateway = boto3.client("acm"), boto3.client("apigateway")
    # GIVEN the served domain's certificate, which its custom domain holds: ACM (and the
    # stand-in) refuse to delete it while it is in use
    with pytest.raises(ClientError) as in_use:
        acm.delete_certificate(CertificateArn=certificate)
    assert in_use.value.response["Error"]["Code"] == "ResourceInUseException"
    # WHEN the brand replaces the domain with another
    replacement = f"www.{co}.example"
    answer = _brand_with(reseller_api, co, [replacement])
    # THEN the answer reports the old one released, and the new one is pending its proof
    assert answer.status_code == 200, answer.body
    body = _body(answer)
    assert body["released_domains"] == [{"domain": domain, "status": "released"}]
    assert [d["domain"] for d in body["domains"]] == [replacement]
    # AND its mapping, custom domain and certificate are gone
    assert _gone(apigateway.get_base_path_mappings, domainName=domain)
    assert _gone(apigateway.get_domain_name, domainName=domain)
    assert _gone(acm.describe_certificate, CertificateArn=certificate)
    # AND a later save has nothing left to release
    again = _body(_brand_with(reseller_api, co, [replacement]))
    assert again["released_domains"] == []


class _FailsOnce:
    """API Gateway that refuses the first DeleteDomainName (a throttled call, say)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.failed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def delete_domain_name(self, **params: Any) -> Any:
        if not self.failed:
            self.failed = True
            error = {"Code": "TooManyRequestsException", "Message": "Too Many Requests"}
            raise ClientError({"Error": error}, "DeleteDomainName")
        return self._inner.delete_domain_name(**params)


def test_a_cleanup_that_stopped_half_way_is_retried(
    reseller_api: ResellerApi,
    served: tuple[str, str, str],
    services: Container,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    co, domain, certificate = served
    acm, apigateway = boto3.client("acm"), boto3.client("apigateway")
    flaky = _FailsOnce(services.client("apigateway"))
    domains = CustomDomains(services.client("acm"), flaky)
    onboarding = dataclasses.replace(services.onboarding, _domains=domains)
    monkeypatch.setitem(services.__dict__, "onboarding", onboarding)
    # WHEN the domain is removed and deleting its custom domain fails after its mapping went
    first = _body(_brand_with(reseller_api, co, []))
    # THEN the answer says the release is pending, with AWS's reason; the certificate stays
    (pending,) = first["released_domains"]
    assert pending["domain"] == domain and pending["status"] == "pending"
    assert "TooManyRequestsException" in pending["detail"]
    assert apigateway.get_base_path_mappings(domainName=domain).get("items", []) == []
    assert apigateway.get_domain_name(domainName=domain)["regionalCertificateArn"] == certificate
    assert acm.describe_certificate(CertificateArn=certificate)["Certificate"]["Status"]
    # WHEN the brand is saved again (nothing changed)
    second = _body(_brand_with(reseller_api, co, []))
    # THEN the release finishes: the domain and the certificate are gone
    assert second["released_domains"] == [{"domain": domain, "status": "released"}]
    assert _gone(apigateway.get_domain_name, domainName=domain)
    assert _gone(acm.describe_certificate, CertificateArn=certificate)


def test_a_domain_dropped_and_claimed_again_keeps_its_certificate(
    reseller_api: ResellerApi, served: tuple[str, str, str]
) -> None:
    co, domain, certificate = served
    acm = boto3.client("acm")
    # GIVEN the domain dropped: released at once
    assert _body(_brand_with(reseller_api, co, []))["released_domains"][0]["status"] == "released"
    # WHEN it is claimed again and served again
    assert _brand_with(reseller_api, co, [domain]).status_code == 200
    again = _served(reseller_api, co, domain)
    # THEN it has a new certificate (not the deleted one), which a later save leaves alone
    assert again != certificate
    assert _body(_brand_with(reseller_api, co, [domain]))["released_domains"] == []
    assert acm.describe_certificate(CertificateArn=again)["Certificate"]["Status"] == "ISSUED"
