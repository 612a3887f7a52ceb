"""The daily certificate-expiry function: warnings 30, 15, 7 and 1 days before, on those days only,
once each, to the right address; replaced certificates are not warned about. DynamoDB, KMS and SES
are emulated by moto; the days are driven by the scheduled event's `time`."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from local import certs
from local.lambdas import context_for
from sello import catalog
from sello.adapters.accounts_repo import DynamoAccountsRepo
from sello.adapters.dynamo import DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.adapters.kms import KmsKeystore
from sello.adapters.mailer import Mail, SesMailer
from sello.models.accounts import Account
from sello.models.certificates import UploadCertificateForm
from sello.models.issuers import CreateIssuerRequest
from sello.services.certificates import CertificateService
from sello.services.issuers import IssuerService
from sello.settings import get_settings
from tests.helpers import load_event

EXPIRY = next(s for s in catalog.SCHEDULED_FUNCTIONS if s.name == "certificate_expiry")
ACCOUNT = "acct_x0000000000000000000"
TODAY = datetime.now(UTC).date()
PASSWORD = "pw"


def store() -> DynamoStore:
    return DynamoStore(get_settings().table_name)


def service(mailer=None) -> CertificateService:
    settings = get_settings()
    return CertificateService(DynamoIssuersRepo(store()), KmsKeystore(settings.key_id), mailer or SesMailer(),
                              DynamoAccountsRepo(store()))


def new_issuer(tax_id: str = certs.DEMO_RUC, email: str | None = "billing@issuer.example.com") -> str:
    body = {**load_event("issuers/create_issuer.body.json"), "tax_id": tax_id, "email": email}
    return IssuerService(DynamoIssuersRepo(store())).create(ACCOUNT, CreateIssuerRequest(**body)).id


def upload(issuer_id: str, expires_on: date, notification_email: str | None = None, key_slot: int = 1,
           ruc: str = certs.DEMO_RUC) -> None:
    not_after = datetime.combine(expires_on, time(15, 30), tzinfo=UTC)
    data = certs.make_p12(ruc=ruc, password=PASSWORD, key_slot=key_slot,
                          not_before=datetime.combine(TODAY - timedelta(days=30), time(), tzinfo=UTC),
                          not_after=not_after)
    form = UploadCertificateForm(certificate=data, password=PASSWORD, notification_email=notification_email)
    service().upload(ACCOUNT, issuer_id, form)


def run(day: date) -> dict:
    from functions.scheduled import certificate_expiry

    event = load_event("issuers/certificate_expiry_schedule.json")
    event["time"] = f"{day.isoformat()}T06:00:00Z"
    return certificate_expiry.handler(event, context_for(EXPIRY))


def expiry_mails(outbox) -> list:
    return [m for m in outbox() if "expires" in m["Subject"]]


def warnings_to(outbox, address: str) -> list[str]:
    return [m["Subject"] for m in expiry_mails(outbox) if m["To"] == address]


def test_warnings_go_out_on_the_threshold_days_only_and_once(aws, outbox):
    expires_on = TODAY + timedelta(days=40)
    upload(new_issuer(), expires_on, notification_email="certs@issuer.example.com")
    days_with_mail = []
    for offset in range(0, 42):
        day = TODAY + timedelta(days=offset)
        before = len(expiry_mails(outbox))
        report = run(day)
        if len(expiry_mails(outbox)) > before:
            days_with_mail.append((expires_on - day).days)
        assert report["sent"] == len(expiry_mails(outbox)) - before
    assert days_with_mail == [30, 15, 7, 1]
    assert warnings_to(outbox, "certs@issuer.example.com") == [
        "Your signing certificate for Comercial Andina S.A. expires in 30 days",
        "Your signing certificate for Comercial Andina S.A. expires in 15 days",
        "Your signing certificate for Comercial Andina S.A. expires in 7 days",
        "Your signing certificate for Comercial Andina S.A. expires tomorrow",
    ]
    text = expiry_mails(outbox)[0].get_body().get_content()
    assert certs.DEMO_RUC in text and expires_on.isoformat() in text and "PUT /v1/issuers/" in text
    # Running a threshold day again sends nothing more.
    assert run(expires_on - timedelta(days=7))["sent"] == 0
    assert len(expiry_mails(outbox)) == 4


def test_the_address_falls_back_to_the_issuer_then_the_account(aws, outbox):
    expires_on = TODAY + timedelta(days=15)
    upload(new_issuer(certs.DEMO_RUC, email="billing@issuer.example.com"), expires_on)
    upload(new_issuer("1792060346001", email=None), expires_on, ruc="1792060346001", key_slot=2)
    now = datetime.now(UTC)
    DynamoAccountsRepo(store()).create_account(Account(id=ACCOUNT, company_name="Andina", status="active",
                                                       email="owner@account.example.com", created_at=now))
    assert run(TODAY)["sent"] == 2
    assert len(warnings_to(outbox, "billing@issuer.example.com")) == 1
    assert len(warnings_to(outbox, "owner@account.example.com")) == 1


def test_a_replaced_certificate_is_not_warned_about(aws, outbox):
    issuer_id = new_issuer()
    upload(issuer_id, TODAY + timedelta(days=7), "old@issuer.example.com", key_slot=1)
    upload(issuer_id, TODAY + timedelta(days=30), "new@issuer.example.com", key_slot=2)
    assert run(TODAY)["sent"] == 1
    assert warnings_to(outbox, "old@issuer.example.com") == []
    assert warnings_to(outbox, "new@issuer.example.com") == [
        "Your signing certificate for Comercial Andina S.A. expires in 30 days"]


class FailingMailer:
    def send(self, mail: Mail) -> str:
        raise ConnectionError("SES unavailable")


def test_a_warning_that_could_not_be_sent_is_tried_again(aws, outbox):
    upload(new_issuer(), TODAY + timedelta(days=1), "certs@issuer.example.com")
    report = service(FailingMailer()).send_expiry_warnings(TODAY)
    assert (report.sent, report.failed) == (0, 1)
    assert expiry_mails(outbox) == []
    assert run(TODAY)["sent"] == 1
    assert warnings_to(outbox, "certs@issuer.example.com") == [
        "Your signing certificate for Comercial Andina S.A. expires tomorrow"]


def test_the_function_fails_when_a_warning_could_not_be_sent(aws, monkeypatch):
    upload(new_issuer(), TODAY + timedelta(days=30), "certs@issuer.example.com")
    monkeypatch.setattr(SesMailer, "send", FailingMailer.send)
    with pytest.raises(RuntimeError, match="1 certificate expiry warning"):
        run(TODAY)


def test_the_sample_schedule_event_runs(aws):
    from functions.scheduled import certificate_expiry

    event = load_event("issuers/certificate_expiry_schedule.json")
    assert certificate_expiry.handler(event, context_for(EXPIRY)) == {
        "date": event["time"][:10], "sent": 0, "failed": 0}
