"""Alert SMS go out under the brand's alphanumeric sender id (SNS message
attribute ``AWS.SNS.SMS.SenderID``)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import boto3
import pytest
from botocore.stub import ANY, Stubber

from chalicelib.branding.schema import BrandConfig
from chalicelib.data import builders
from chalicelib.pipeline.alerts import SMS_SENDER_ID_ATTRIBUTE, Alert, Notifier
from chalicelib.wiring.container import Container
from local_aws.stack import LocalStack

pytestmark = pytest.mark.functional

PHONE = "+886912345678"


@pytest.fixture(scope="module")
def sms_company(services: Container) -> str:
    """A branded company whose only admin has a phone number."""
    company_id = f"sms-{uuid.uuid4().hex[:8]}"
    builders.company(company_id, "Text Homes", datetime.now(UTC)).save()
    builders.membership(
        company_id, f"sub-{company_id}", "boss@text.example", "company_admin", phone=PHONE
    ).save()
    services.brand_store.save(
        company_id,
        BrandConfig(
            slug=company_id,
            display_name="Text Homes",
            support_email="help@text.example",
            email_sender_name="Text Homes",
            email_sender_address="no-reply@formosa-homes.example",  # a verified identity
            sms_sender_id="TextHomes",
        ),
    )
    return company_id


def _alert(company_id: str) -> Alert:
    return Alert(
        company_id=company_id,
        topic="gateway_offline",
        subject_ref=f"gateway:sms-{uuid.uuid4().hex[:8]}",
        at=datetime.now(UTC),
        audience="staff",
    )


def test_the_sms_carries_the_brands_sender_id(services: Container, sms_company: str) -> None:
    # GIVEN a real SNS client whose calls are checked against the SNS API model
    sns = boto3.client("sns", region_name=services.settings.region)
    stub = Stubber(sns)
    stub.add_response(
        "publish",
        {"MessageId": "m-1"},
        expected_params={
            "PhoneNumber": PHONE,
            "Message": ANY,
            "MessageAttributes": {
                SMS_SENDER_ID_ATTRIBUTE: {"DataType": "String", "StringValue": "TextHomes"}
            },
        },
    )
    notifier = Notifier(
        services.catalogue,
        services.client("ses"),
        sns,
        services.settings.sender_email,
        sender_for=services.brands.sender_for,
        sms_sender_for=services.brands.sms_sender_for,
    )
    # WHEN an alert reaches the company's admin
    with stub:
        item = notifier.notify(_alert(sms_company))
    # THEN exactly one SMS was published, with the sender id attribute
    stub.assert_no_pending_responses()
    assert item is not None and item.delivery[f"sms:{PHONE}"] == "sent"


def test_the_stand_in_accepts_the_branded_sms(
    services: Container, standin: LocalStack, sms_company: str
) -> None:
    # GIVEN the app's own wiring (Container.notifier) and the stand-in's SNS
    alert = _alert(sms_company)
    # WHEN the alert is delivered
    item = services.notifier.notify(alert)
    # THEN SNS took the message with the attribute (moto validates the publish call)
    assert item is not None and item.delivery[f"sms:{PHONE}"] == "sent"
    sms = standin.sent_messages()["sms"]
    # in words: the gateway's id, never its subject reference
    gateway_id = alert.subject_ref.removeprefix("gateway:")
    mine = [
        str(m["message"]) for m in sms if m["phone"] == PHONE and gateway_id in str(m["message"])
    ]
    assert mine and all("gateway:" not in m and m.startswith("Text Homes: ") for m in mine)


def test_an_unbranded_company_sends_without_a_sender_id(services: Container) -> None:
    # GIVEN a company with no brand
    company_id = f"plain-{uuid.uuid4().hex[:8]}"
    builders.company(company_id, "Plain Co", datetime.now(UTC)).save()
    builders.membership(
        company_id, f"sub-{company_id}", "boss@plain.example", "company_admin", phone=PHONE
    ).save()
    sns = boto3.client("sns", region_name=services.settings.region)
    stub = Stubber(sns)
    stub.add_response(
        "publish", {"MessageId": "m-2"}, expected_params={"PhoneNumber": PHONE, "Message": ANY}
    )
    notifier = Notifier(
        services.catalogue,
        services.client("ses"),
        sns,
        services.settings.sender_email,
        sms_sender_for=services.brands.sms_sender_for,
    )
    # WHEN an alert is delivered THEN no sender id attribute is sent
    with stub:
        item = notifier.notify(_alert(company_id))
    stub.assert_no_pending_responses()
    assert item is not None and item.delivery[f"sms:{PHONE}"] == "sent"
