"""A brand's verified domain served by the API: an ACM certificate, an API Gateway custom
domain and a base-path mapping to the stage (docs/brands.md, "Custom domains").

Each step waits on DNS the company controls, so serving a domain is a progression that
the verify route advances each time it is called (idempotent, nothing to undo):

1. the domain is verified (its TXT challenge: ``branding/store.py``);
2. a public certificate is requested from ACM with DNS validation
   (https://docs.aws.amazon.com/acm/latest/userguide/dns-validation.html); the answer shows
   the CNAME record ACM asks for, and the certificate's ARN is kept on the host's binding;
3. once ACM has issued it, a REGIONAL custom domain name is created with it (API Gateway
   accepts only an issued certificate in the API's region for a regional endpoint:
   https://docs.aws.amazon.com/apigateway/latest/developerguide/how-to-custom-domains.html)
   and the root path mapped to the API's stage, so the portal is served at
   ``https://<domain>/`` without the stage prefix;
4. the answer names the target of the domain's own CNAME: the custom domain's
   ``regionalDomainName``.

A domain the brand drops (removed, or replaced by another) is released in reverse:
its base-path mappings, the custom domain name, then the certificate (``release``).
The brand's save records the release in the same transaction that drops the binding
(``DomainRelease``), and the record is deleted only once all three are gone, so a
cleanup that stopped half-way (ACM refuses to delete a certificate API Gateway still
holds, "ResourceInUseException", until the domain's deletion has gone through) is
retried by the next save; every step treats "already gone" as done.

The clients (``acm``, ``apigateway``) are injected. The API to map is the one serving the
request (API Gateway's ``requestContext.apiId`` and ``stage``: a function environment
cannot name its own API, which depends on the function); the local stack names its
stand-in API in the settings instead. Without one, no custom domain is served (the answer
says so).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

ISSUED = "ISSUED"
TLS_POLICY = "TLS_1_2"
# What AWS answers for a resource that is already gone (each step is idempotent).
_GONE = {"NotFoundException", "ResourceNotFoundException"}


@dataclass(frozen=True)
class ApiStage:
    rest_api_id: str
    stage: str


@dataclass(frozen=True)
class CustomDomains:
    _acm: Any
    _apigateway: Any

    def request_certificate(self, host: str, verification: str) -> str:
        """A DNS-validated certificate for ``host``; the idempotency token makes a retry
        within the hour answer the same certificate (ACM RequestCertificate). The token
        names this ``verification`` of the host too: a domain dropped (its certificate
        deleted) and verified again gets a new certificate, not the deleted one."""
        token = hashlib.sha256(f"{host} {verification}".encode()).hexdigest()[:32]
        answer = self._acm.request_certificate(
            DomainName=host, ValidationMethod="DNS", IdempotencyToken=token
        )
        return str(answer["CertificateArn"])

    def progress(self, host: str, certificate_arn: str, api: ApiStage | None) -> dict[str, Any]:
        """Where serving ``host`` stands, doing the next step when its certificate is
        issued: the certificate (and the CNAME that validates it), then the domain."""
        found = self._acm.describe_certificate(CertificateArn=certificate_arn)["Certificate"]
        status = str(found.get("Status", ""))
        certificate: dict[str, Any] = {"arn": certificate_arn, "status": status}
        record = _validation_record(found)
        if record:
            certificate["validation_record"] = record
        if status != ISSUED:
            return {"certificate": certificate, "serving": {"status": "waiting_for_certificate"}}
        if api is None:
            return {"certificate": certificate, "serving": {"status": "not_configured"}}
        target = self._ensure_domain(host, certificate_arn)
        self._ensure_mapping(host, api)
        return {
            "certificate": certificate,
            "serving": {
                "status": "ready",
                "cname": {"name": host, "type": "CNAME", "value": target},
            },
        }

    def _ensure_domain(self, host: str, certificate_arn: str) -> str:
        """The custom domain's regional target: looked up first (a domain name is created
        once; what AWS answers a second create is not relied on), else created."""
        try:
            found = self._apigateway.get_domain_name(domainName=host)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "NotFoundException":
                raise
            found = self._apigateway.create_domain_name(
                domainName=host,
                regionalCertificateArn=certificate_arn,
                endpointConfiguration={"types": ["REGIONAL"]},
                securityPolicy=TLS_POLICY,
            )
        return str(found["regionalDomainName"])

    def _ensure_mapping(self, host: str, api: ApiStage) -> None:
        try:
            self._apigateway.create_base_path_mapping(
                domainName=host, restApiId=api.rest_api_id, stage=api.stage
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConflictException":
                raise

    def release(self, host: str, certificate_arn: str) -> None:
        """Stop serving ``host`` with this certificate and delete it: the mappings and
        the custom domain (only if made with this certificate: a domain the host's next
        owner made with its own is not ours), then the certificate. Raises ClientError
        when a step fails; the steps already done are not repeated wrongly on a retry."""
        domain = self._domain_made_with(host, certificate_arn)
        if domain is not None:
            mappings = self._apigateway.get_base_path_mappings(domainName=host)
            for mapping in mappings.get("items") or []:
                _unless_gone(
                    self._apigateway.delete_base_path_mapping,
                    domainName=host,
                    basePath=mapping["basePath"],
                )
            _unless_gone(self._apigateway.delete_domain_name, domainName=host)
        _unless_gone(self._acm.delete_certificate, CertificateArn=certificate_arn)

    def _domain_made_with(self, host: str, certificate_arn: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = self._apigateway.get_domain_name(domainName=host)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in _GONE:
                return None
            raise
        return found if found.get("regionalCertificateArn") == certificate_arn else None


def _unless_gone(call: Any, **params: Any) -> None:
    try:
        call(**params)
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in _GONE:
            raise


def _validation_record(certificate: dict[str, Any]) -> dict[str, str] | None:
    for option in certificate.get("DomainValidationOptions") or []:
        record = option.get("ResourceRecord")
        if record:
            return {"name": record["Name"], "type": record["Type"], "value": record["Value"]}
    return None
