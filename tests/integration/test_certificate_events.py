"""Certificate events on the emulator: an upload's outcome is recorded as `certificate.accepted` (the
certificate's metadata, as GET shows it) or `certificate.rejected` (the error's code) in the key's
environment, and the daily expiry job's warning as `certificate.expiring` in both environments,
since one certificate signs the documents of both. Each is queued to an endpoint that wants it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from local import certs
from sello.errors import Unprocessable
from sello.models.certificate_api import UploadCertificateForm
from sello.services import events
from sello.services.webhooks import default_service as webhooks
from sello.settings import get_settings
from tests.integration.test_certificate_expiry import ACCOUNT, PASSWORD, TODAY, new_issuer, run, service, upload
from tests.integration.test_event_delivery_queue import queued

pytestmark = pytest.mark.usefixtures("aws")
URL = "https://93.184.216.34/sello/events"  # a public address: no DNS needed


def recorded(environment: str) -> list[dict]:
    return [json.loads(e.model_dump_json()) for e in events.default_service().list(ACCOUNT, environment).data]


def sent() -> list[dict]:
    """The deliveries queued on the emulator's queue."""
    return queued(get_settings().events_queue_url)


def test_an_accepted_upload_is_an_event_with_the_certificate():
    endpoint = webhooks().create(ACCOUNT, "test", {"url": URL, "enabled_events": ["certificate.accepted"]})
    issuer_id = new_issuer()
    upload(issuer_id, TODAY + timedelta(days=200))
    [event] = recorded("test")
    shown = service().view(ACCOUNT, issuer_id).model_dump(mode="json", exclude_none=True)
    assert (event["type"], event["environment"], event["data"]["issuer_id"]) == ("certificate.accepted", "test",
                                                                                 issuer_id)
    assert event["data"]["serial"] == shown["serial"] and event["data"]["valid_to"] == shown["valid_to"]
    assert "private" not in json.dumps(event).lower() and PASSWORD not in json.dumps(event["data"])
    assert [(m["event_id"], m["endpoint_id"]) for m in sent()] == [(event["id"], endpoint.id)]
    assert recorded("live") == []


def test_a_refused_upload_is_an_event_with_the_reason():
    webhooks().create(ACCOUNT, "test", {"url": URL, "enabled_events": ["certificate.accepted"]})
    issuer_id = new_issuer()
    p12 = certs.make_p12(ruc=certs.DEMO_RUC, password=PASSWORD)
    with pytest.raises(Unprocessable) as refused:
        service().upload(ACCOUNT, issuer_id, UploadCertificateForm(certificate=p12, password="not-it"), "test")
    [event] = recorded("test")
    assert (event["type"], event["data"]["issuer_id"], event["data"]["error"]["code"]) == (
        "certificate.rejected", issuer_id, refused.value.code)
    assert refused.value.code == "wrong_certificate_password" and "not-it" not in json.dumps(event)
    assert sent() == []  # the endpoint does not want it


def test_the_expiry_warning_is_an_event_in_both_environments():
    issuer_id = new_issuer()
    upload(issuer_id, TODAY + timedelta(days=30))
    run(TODAY)
    expiring = {env: [e for e in recorded(env) if e["type"] == "certificate.expiring"] for env in ("test", "live")}
    assert [len(found) for found in expiring.values()] == [1, 1]
    data = expiring["live"][0]["data"]
    assert (data["issuer_id"], data["days_left"]) == (issuer_id, 30)
    assert expiring["test"][0]["data"] == data
    run(TODAY)  # the same day again: no second warning, no second event
    assert len([e for e in recorded("test") if e["type"] == "certificate.expiring"]) == 1
