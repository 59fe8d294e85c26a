"""What the stand-in adds in front of moto's ACM: a certificate that an API Gateway
custom domain still uses cannot be deleted.

ACM answers ``ResourceInUseException`` to ``DeleteCertificate`` while another AWS
service holds the certificate ("DeleteCertificate", ACM API reference: "You cannot
delete an ACM certificate that is being used by another AWS service"); moto deletes
it and leaves the custom domain pointing at nothing. Releasing a brand's dropped domain
(``application/custom_domains.py``) must delete the domain first, and a test here would
not notice the wrong order without this refusal.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .dynamodb_guard import WsgiApp, read_body

_DELETE = "CertificateManager.DeleteCertificate"


class AcmGuard:
    def __init__(self, app: WsgiApp) -> None:
        self._app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("HTTP_X_AMZ_TARGET", "") != _DELETE:
            return self._app(environ, start_response)
        try:
            arn = str(json.loads(read_body(environ) or b"{}").get("CertificateArn", ""))
        except (ValueError, AttributeError):
            return self._app(environ, start_response)  # moto refuses a malformed body itself
        holder = domain_using(arn)
        if holder is None:
            return self._app(environ, start_response)
        body = json.dumps(
            {
                "__type": "ResourceInUseException",
                "message": f"Certificate {arn} is in use by the custom domain {holder}",
            }
        ).encode()
        start_response(
            "400 Bad Request",
            [("Content-Type", "application/x-amz-json-1.1"), ("Content-Length", str(len(body)))],
        )
        return [body]


def domain_using(certificate_arn: str) -> str | None:
    """The API Gateway custom domain (any account and region moto holds) whose edge or
    regional certificate is ``certificate_arn``."""
    from moto.apigateway.models import apigateway_backends

    for regions in apigateway_backends.values():
        for backend in regions.values():
            for name, domain in backend.domain_names.items():
                if certificate_arn in (domain.certificate_arn, domain.regional_certificate_arn):
                    return str(name)
    return None
