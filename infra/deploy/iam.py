"""IAM document pieces the template repeats: who may assume a role."""

from __future__ import annotations

from typing import Any


def assume_role_policy(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    """A trust policy letting one AWS service assume the role (with an optional condition)."""
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}
