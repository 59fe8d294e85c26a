"""Structured logs and metrics (Powertools), one logger for the whole app.

Service name and log level come from Powertools' own environment variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_LOG_LEVEL``); metrics are emitted in
CloudWatch's embedded metric format, so no client call is made from a handler.
"""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

SERVICE = "powerlet"
NAMESPACE = "Powerlet"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
