"""The daily certificate-expiry function: warnings 30, 15, 7 and 1 days before, once each, to the
right address; a warning whose day was missed goes out in the next two days, and only the most
urgent one due; replaced certificates are not warned about; one certificate's mail problem does not
hold up the others. DynamoDB, KMS and SES are emulated by moto; the days are driven by the scheduled
event's `time`."""

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
from sello.models.certificate_api import UploadCertificateForm
from sello.models.issuer_api import CreateIssuerRequest
from sello.models.issuers import Issuer
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


def service(mailer=None, **options) -> CertificateService:
    settings = get_settings()
    return CertificateService(DynamoIssuersRepo(store()), KmsKeystore(settings.key_id), mailer or SesMailer(),
                              DynamoAccountsRepo(store()), **options)


def new_issuer(tax_id: str = certs.DEMO_RUC, email: str | None = "billing@issuer.example.com",
               language: str = "en") -> str:
    """An issuer whose notices are in `language` (English here unless a test says otherwise)."""
    body = {**load_event("issuers/create_issuer.body.json"), "tax_id": tax_id, "email": email,
            "language": language}
    return IssuerService(DynamoIssuersRepo(store())).create(ACCOUNT, CreateIssuerRequest(**body)).id


def upload(issuer_id: str, expires_on: date, notification_email: str | None = None, key_slot: int = 1,
           ruc: str = certs.DEMO_RUC) -> None:
    not_after = datetime.combine(expires_on, time(15, 30), tzinfo=UTC)
    data = certs.make_p12(ruc=ruc, password=PASSWORD, key_slot=key_slot,
                          not_before=datetime.combine(TODAY - timedelta(days=30), time(), tzinfo=UTC),
                          not_after=not_after)
    form = UploadCertificateForm(certificate=data, password=PASSWORD, notification_email=notification_email)
    service().upload(ACCOUNT, issuer_id, form, "test")


def run(day: date) -> dict:
    from functions.scheduled import certificate_expiry

    event = load_event("issuers/certificate_expiry_schedule.json")
    event["time"] = f"{day.isoformat()}T06:00:00Z"
    return certificate_expiry.handler(event, context_for(EXPIRY))


def expiry_mails(outbox) -> list:
    return [m for m in outbox() if "expires" in m["Subject"] or "vence" in m["Subject"]]


def warnings_to(outbox, address: str) -> list[str]:
    return [m["Subject"] for m in expiry_mails(outbox) if m["To"] == address]


def subjects(outbox, address: str = "certs@issuer.example.com") -> list[str]:
    return [s.removeprefix("Your signing certificate for Comercial Andina S.A. expires ")
            for s in warnings_to(outbox, address)]


def test_warnings_go_out_on_the_threshold_days_when_run_daily_and_once(aws, outbox):
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
    assert certs.DEMO_RUC in text and "PUT /v1/issuers/" in text
    assert f"{expires_on:%B} {expires_on.day}, {expires_on.year}" in text  # as English writes dates
    # Running a threshold day again sends nothing more.
    assert run(expires_on - timedelta(days=7))["sent"] == 0
    assert len(expiry_mails(outbox)) == 4


def test_a_missed_warning_day_is_caught_up_later(aws, outbox):
    expires_on = TODAY + timedelta(days=40)
    upload(new_issuer(), expires_on, notification_email="certs@issuer.example.com")

    def run_at(days_left: int, mailer=None) -> tuple[int, int]:
        day = expires_on - timedelta(days=days_left)
        if mailer:
            report = service(mailer).send_expiry_warnings(day)
            return report.sent, report.failed
        report = run(day)
        return report["sent"], report["failed"]

    assert run_at(30, FailingMailer()) == (0, 1)  # SES down on the 30-day run
    assert run_at(29) == (1, 0)
    assert run_at(28) == (0, 0)
    # No run at all with 15 and 14 days left, nor in the whole 7-day window (7, 6, 5).
    assert run_at(13) == (1, 0)
    assert run_at(4) == (0, 0)
    assert run_at(0) == (1, 0)  # the 1-day run was missed: the certificate still expires today
    assert subjects(outbox) == ["in 29 days", "in 13 days", "today"]


def test_a_certificate_already_inside_a_threshold_gets_only_the_most_urgent_warning(aws, outbox):
    expires_on = TODAY + timedelta(days=14)
    upload(new_issuer(), expires_on, notification_email="certs@issuer.example.com")
    for offset in range(3):
        run(TODAY + timedelta(days=offset))
    assert subjects(outbox) == ["in 14 days"]
    [item] = store().query(f"ACCOUNT#{ACCOUNT}", "CERT#")[0]
    assert item["warnings_sent"] == {15}
    run(expires_on - timedelta(days=7))
    assert subjects(outbox) == ["in 14 days", "in 7 days"]


def test_an_expired_certificate_is_not_warned_about(aws, outbox):
    expires_on = TODAY + timedelta(days=30)
    upload(new_issuer(), expires_on, notification_email="certs@issuer.example.com")
    later = datetime.combine(expires_on, time(16), tzinfo=UTC)  # after it expired at 15:30
    report = service(clock=lambda: later).send_expiry_warnings(expires_on)
    assert (report.sent, report.failed) == (0, 0)
    assert expiry_mails(outbox) == []


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


class RefusingMailer(SesMailer):
    """Sends everything except mail to one address, which fails the way a bad header does."""

    def __init__(self, refused: str):
        self.refused = refused

    def send(self, mail: Mail) -> str:
        if mail.to == self.refused:
            raise ValueError("Header values may not contain linefeed or carriage return characters")
        return super().send(mail)


def test_a_mail_problem_with_one_certificate_does_not_hold_up_the_others(aws, outbox):
    upload(new_issuer(certs.DEMO_RUC), TODAY + timedelta(days=7), "first@issuer.example.com")
    upload(new_issuer("1792060346001"), TODAY + timedelta(days=7), "second@issuer.example.com",
           ruc="1792060346001", key_slot=2)
    report = service(RefusingMailer("first@issuer.example.com")).send_expiry_warnings(TODAY)
    assert (report.sent, report.failed) == (1, 1)
    assert len(warnings_to(outbox, "second@issuer.example.com")) == 1
    # The refused one is tried again on the next run; the other is not repeated.
    assert run(TODAY)["sent"] == 1
    assert len(warnings_to(outbox, "first@issuer.example.com")) == 1
    assert len(warnings_to(outbox, "second@issuer.example.com")) == 1


def test_names_stored_with_line_breaks_do_not_break_the_emails(aws, outbox):
    """Issuers registered before control characters were refused may have them in their names."""
    now = datetime.now(UTC).replace(microsecond=0)
    body = load_event("issuers/create_issuer.body.json")
    issuer = Issuer(id="iss_legacyname0000000000", account_id=ACCOUNT, country="EC", tax_id=certs.DEMO_RUC,
                    legal_name="Comercial\nAndina\x00 S.A.", head_office_address=body["head_office_address"],
                    establishments=body["establishments"], flags=body["flags"], created_at=now,
                    updated_at=now)
    assert DynamoIssuersRepo(store()).create_issuer(issuer)
    upload(issuer.id, TODAY + timedelta(days=1), "certs@issuer.example.com")
    # Stored before issuers had a language: Spanish.
    assert [m["Subject"] for m in outbox()] == ["Certificado de firma aceptado para Comercial Andina S.A."]
    assert run(TODAY) == {"date": TODAY.isoformat(), "sent": 1, "failed": 0}
    assert warnings_to(outbox, "certs@issuer.example.com") == [
        "Su certificado de firma de Comercial Andina S.A. vence mañana"]


def test_a_spanish_issuer_is_warned_in_spanish_with_spanish_dates(aws, outbox):
    expires_on = TODAY + timedelta(days=30)
    upload(new_issuer(language="es"), expires_on, notification_email="certs@issuer.example.com")
    assert run(TODAY)["sent"] == 1
    assert warnings_to(outbox, "certs@issuer.example.com") == [
        "Su certificado de firma de Comercial Andina S.A. vence en 30 días"]
    text = expiry_mails(outbox)[0].get_body().get_content()
    months = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre",
              "noviembre", "diciembre"]
    assert f"el {expires_on.day} de {months[expires_on.month - 1]} de {expires_on.year}" in text
    assert "Renuévelo con su autoridad de certificación" in text


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
