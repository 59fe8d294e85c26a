"""Custom-domain ownership: a claimed domain shows the brand only once its
``_powerlet-challenge`` TXT record carries the token (a fake resolver stands in
for DNS: no test touches the network)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from chalice.test import Client

from chalicelib.branding.errors import DnsLookupError
from chalicelib.wiring.container import Container
from tests.functional.portal.browser_client import text

from .conftest import DNS, ResellerApi, new_reseller
from .test_reseller_api import company_body

pytestmark = pytest.mark.functional


def _body(response: Any) -> Any:
    return json.loads(response.body)


def _verify(api: ResellerApi, co: str, domain: str) -> Any:
    return api.call("POST", f"/v1/reseller/companies/{co}/brand/domains/{domain}/verify")


@pytest.fixture()
def claimed(reseller_api: ResellerApi) -> tuple[str, str, dict[str, str]]:
    co = f"dom-{uuid.uuid4().hex[:6]}"
    domain = f"portal.{co}.example"
    created = reseller_api.call("POST", "/v1/reseller/companies", company_body(co, [domain]), co)
    assert created.status_code == 201, created.body
    (entry,) = _body(created)["domains"]
    return co, domain, entry


def test_a_claimed_domain_is_pending_and_shows_no_brand(
    client: Client, claimed: tuple[str, str, dict[str, Any]]
) -> None:
    co, domain, entry = claimed
    # THEN the answer names the TXT record to publish
    assert entry["status"] == "pending"
    assert entry["challenge"]["name"] == f"_powerlet-challenge.{domain}"
    assert entry["challenge"]["type"] == "TXT" and len(entry["challenge"]["value"]) >= 32
    # AND the domain shows the platform default, not the brand, until it is verified
    html = text(client.http.get("/signin", headers={"Host": domain}))
    assert "Powerlet" in html and co.replace("-", " ").title() not in html


def test_verification_needs_the_exact_token(
    client: Client, reseller_api: ResellerApi, claimed: tuple[str, str, dict[str, Any]]
) -> None:
    co, domain, entry = claimed
    name, token = entry["challenge"]["name"], entry["challenge"]["value"]
    # no record at all, then a record with another value: refused, still pending
    missing = _verify(reseller_api, co, domain)
    assert missing.status_code == 409 and name in _body(missing)["detail"]
    DNS.records[name] = ["some-other-token", token[:-1]]
    assert _verify(reseller_api, co, domain).status_code == 409
    company = _body(reseller_api.call("GET", f"/v1/reseller/companies/{co}"))
    assert company["domains"][0]["status"] == "pending"
    assert "Powerlet" in text(client.http.get("/signin", headers={"Host": domain}))
    # WHEN the token is published (quoted, beside other TXT strings, as DNS tools show it)
    DNS.records[name] = ["v=spf1 -all", f'"{token}"']
    verified = _verify(reseller_api, co, domain)
    # THEN the domain is verified and shows the brand
    assert verified.status_code == 200, verified.body
    assert _body(verified)["status"] == "verified"
    html = text(client.http.get("/signin", headers={"Host": domain.upper()}))
    assert co.replace("-", " ").title() in html
    company = _body(reseller_api.call("GET", f"/v1/reseller/companies/{co}"))
    assert company["domains"] == [{"domain": domain, "status": "verified"}]
    assert f"https://{domain}/signin" in company["sign_in_urls"]
    # AND verifying again is harmless; a brand update that keeps the domain keeps it verified
    assert _verify(reseller_api, co, domain).status_code == 200
    DNS.records.pop(name)
    brand = company["brand"] | {"display_name": "Renamed Homes"}
    updated = reseller_api.call("PUT", f"/v1/reseller/companies/{co}/brand", brand)
    assert updated.status_code == 200, updated.body
    assert _body(updated)["domains"][0]["status"] == "verified"
    assert "Renamed Homes" in text(client.http.get("/signin", headers={"Host": domain}))


def test_only_the_claiming_company_can_verify(
    client: Client, reseller_api: ResellerApi, claimed: tuple[str, str, dict[str, Any]]
) -> None:
    co, domain, entry = claimed
    DNS.records[entry["challenge"]["name"]] = [entry["challenge"]["value"]]
    other = ResellerApi(client, new_reseller(f"rs-dom-{uuid.uuid4().hex[:4]}"))
    # another reseller: the company is not found
    assert _verify(other, co, domain).status_code == 404
    # a domain the brand does not claim, or not a domain at all: not found
    assert _verify(reseller_api, co, "elsewhere.example").status_code == 404
    assert _verify(reseller_api, co, "bad_name!").status_code == 404
    # another company may claim the pending domain too (its own claim, its own token):
    # a pending claim blocks nobody, and the answer says nothing about the first claim
    co2 = f"dom-{uuid.uuid4().hex[:6]}"
    second = reseller_api.call("POST", "/v1/reseller/companies", company_body(co2, [domain]), co2)
    assert second.status_code == 201, second.body
    (entry2,) = _body(second)["domains"]
    assert entry2["status"] == "pending"
    assert entry2["challenge"]["value"] != entry["challenge"]["value"]
    # but only the token in DNS proves: the second company's verification is refused
    assert _verify(reseller_api, co2, domain).status_code == 409
    assert _verify(reseller_api, co, domain).status_code == 200


def test_a_failed_lookup_is_a_temporary_error(
    services: Container, reseller_api: ResellerApi, claimed: tuple[str, str, dict[str, Any]]
) -> None:
    co, domain, _ = claimed

    class Broken:
        def txt(self, name: str) -> list[str]:
            raise DnsLookupError(f"the TXT lookup of {name} timed out")

    services.dns_resolver = Broken()
    try:
        answer = _verify(reseller_api, co, domain)
    finally:
        services.dns_resolver = DNS
    assert answer.status_code == 503


def test_dns_proof_takes_a_domain_from_another_companys_pending_claim(
    client: Client, reseller_api: ResellerApi
) -> None:
    # GIVEN a squatter claimed the domain first and never proves it
    squatter, owner = (f"dom-{uuid.uuid4().hex[:6]}" for _ in range(2))
    domain = f"portal.{owner}.example"
    first = reseller_api.call(
        "POST", "/v1/reseller/companies", company_body(squatter, [domain]), squatter
    )
    assert first.status_code == 201, first.body
    # WHEN the real owner claims it (no 409) and publishes its own token
    claimed = reseller_api.call(
        "POST", "/v1/reseller/companies", company_body(owner, [domain]), owner
    )
    assert claimed.status_code == 201, claimed.body
    (entry,) = _body(claimed)["domains"]
    DNS.records[entry["challenge"]["name"]] = [entry["challenge"]["value"]]
    # THEN its proof wins: the domain shows its brand, and the squatter can no longer prove it
    assert _verify(reseller_api, owner, domain).status_code == 200
    html = text(client.http.get("/signin", headers={"Host": domain}))
    assert owner.replace("-", " ").title() in html
    assert _verify(reseller_api, squatter, domain).status_code == 409
    assert (
        _body(reseller_api.call("GET", f"/v1/reseller/companies/{squatter}"))["domains"][0][
            "status"
        ]
        == "pending"
    )


def test_a_brand_answer_does_not_tell_which_domains_are_claimed(
    reseller_api: ResellerApi, claimed: tuple[str, str, dict[str, Any]]
) -> None:
    # GIVEN one domain claimed and one verified by another company, one nobody claimed
    co, domain, _entry = claimed
    verified = f"www.{co}.example"
    brand = _body(reseller_api.call("GET", f"/v1/reseller/companies/{co}"))["brand"]
    brand = brand | {"custom_domains": [domain, verified]}
    saved = reseller_api.call("PUT", f"/v1/reseller/companies/{co}/brand", brand)
    assert saved.status_code == 200, saved.body
    challenge_ = next(d for d in _body(saved)["domains"] if d["domain"] == verified)["challenge"]
    DNS.records[challenge_["name"]] = [challenge_["value"]]
    assert _verify(reseller_api, co, verified).status_code == 200
    fresh = f"fresh-{uuid.uuid4().hex[:6]}.example"
    probe = f"dom-{uuid.uuid4().hex[:6]}"
    # WHEN a third company claims all three
    answer = reseller_api.call(
        "POST", "/v1/reseller/companies", company_body(probe, [domain, verified, fresh]), probe
    )
    # THEN each is answered alike: pending, with a challenge of its own, never a 409
    assert answer.status_code == 201, answer.body
    shapes = {(d["status"], tuple(sorted(d))) for d in _body(answer)["domains"]}
    assert shapes == {("pending", ("challenge", "domain", "expires_at", "status"))}
    # AND a taken slug answers a 409 that names nothing
    taken = company_body(f"dom-{uuid.uuid4().hex[:6]}")
    taken["brand"]["slug"] = co
    refused = reseller_api.call("POST", "/v1/reseller/companies", taken, taken["company_id"])
    assert refused.status_code == 409
    assert co not in refused.body.decode() and domain not in refused.body.decode()


def test_a_claim_lapses_after_seven_days_and_saving_the_brand_renews_it(
    services: Container, reseller_api: ResellerApi, claimed: tuple[str, str, dict[str, Any]]
) -> None:
    from datetime import UTC, datetime, timedelta

    from chalicelib.branding.errors import DomainClaimExpiredError

    co, domain, entry = claimed
    DNS.records[entry["challenge"]["name"]] = [entry["challenge"]["value"]]
    store = services.brand_store
    later = datetime.now(UTC) + timedelta(days=7, minutes=1)
    # WHEN seven days have passed unproven THEN the claim has lapsed: even the right token
    # no longer verifies it
    assert store.domains(co, [domain], later)[0]["status"] == "expired"
    with pytest.raises(DomainClaimExpiredError):
        store.verify_domain(co, domain, DNS, later)
    # WHEN the brand is saved again THEN a new claim with a new token starts
    config = store.get(co)
    assert config is not None
    store.save(co, config, config, now=later)
    (renewed,) = store.domains(co, [domain], later)
    assert renewed["status"] == "pending"
    assert renewed["challenge"]["value"] != entry["challenge"]["value"]


def test_a_verified_domain_is_served_with_its_certificate_at_the_root(
    reseller_api: ResellerApi, claimed: tuple[str, str, dict[str, Any]], standin: Any
) -> None:
    import time

    import boto3

    co, domain, entry = claimed
    DNS.records[entry["challenge"]["name"]] = [entry["challenge"]["value"]]
    # WHEN the domain is verified THEN a DNS-validated certificate is requested, and the
    # answer shows the CNAME that validates it; nothing is served before it is issued
    first = _body(_verify(reseller_api, co, domain))
    assert first["status"] == "verified"
    certificate = first["certificate"]
    assert certificate["status"] == "PENDING_VALIDATION"
    assert certificate["validation_record"]["type"] == "CNAME"
    assert first["serving"] == {"status": "waiting_for_certificate"}
    apigateway = boto3.client("apigateway")
    names = [d["domainName"] for d in apigateway.get_domain_names()["items"]]
    assert domain not in names
    # WHEN ACM has issued it (the stand-in validates after a second) and verify is called
    time.sleep(1.5)
    second = _body(_verify(reseller_api, co, domain))
    # THEN a regional custom domain with that certificate maps the root to the API's stage
    assert second["certificate"] == {**certificate, "status": "ISSUED"} | {
        "validation_record": second["certificate"]["validation_record"]
    }
    assert second["serving"]["status"] == "ready"
    cname = second["serving"]["cname"]
    assert cname["name"] == domain and cname["value"].endswith(".amazonaws.com")
    found = apigateway.get_domain_name(domainName=domain)
    assert found["regionalCertificateArn"] == certificate["arn"]
    assert found["endpointConfiguration"]["types"] == ["REGIONAL"]
    (mapping,) = apigateway.get_base_path_mappings(domainName=domain)["items"]
    assert (mapping["basePath"], mapping["stage"]) == ("(none)", "api")
    assert mapping["restApiId"] == standin.resources.rest_api_id
    # AND calling again changes nothing (same certificate, same target)
    third = _body(_verify(reseller_api, co, domain))
    assert third["certificate"]["arn"] == certificate["arn"]
    assert third["serving"]["cname"] == cname
