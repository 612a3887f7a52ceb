"""Signing certificates: upload (read the files in the issuer's country's format, check the key and
certificate, and keep the private key sealed with a KMS data key), read the public metadata, load
the key for signing, and warn before a certificate expires.

Which files an upload takes and how they are read is the country plugin's (`certificate_upload`,
`load_credentials`: a PKCS#12 file by default); the checks that follow are the same for every
country (`check_credentials`), with the plugin's own rules (`check_certificate`), tax id and trust
in between. Validation happens before anything is written, so a rejected upload stores nothing. Each
rejection has its own code; the password is used to open the files and then dropped (never stored,
logged or repeated in a message). The RSA key is checked in full once, here (cryptography does it
when the file is opened); the signing path later loads it with that check skipped, which is what
keeps its cold start short."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from aws_lambda_powertools import Logger
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_der_private_key,
)

from sello.adapters.accounts_repo import DynamoAccountsRepo
from sello.adapters.dynamo import DynamoStore
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.adapters.kms import KmsKeystore, Sealed, wipe
from sello.adapters.mailer import Mail, Mailer, SesMailer
from sello.adapters.rate_limits import DynamoRateLimiter
from sello.countries import CountryPlugin, get_plugin, trust
from sello.errors import Conflict, NotFound, SelloError, Unprocessable
from sello.i18n import Translator, _l, _ln, translator
from sello.ids import iso, utcnow
from sello.models.accounts import Account, Environment
from sello.models.certificate_api import CertificateHistoryEntry, CertificateView, CertificateWarning
from sello.models.certificate_files import CertificateUpload, UploadedFile
from sello.models.certificates import Certificate, certificate_status
from sello.models.common import CONTROL_CHARACTERS
from sello.models.issuers import Issuer
from sello.services import pkcs12 as pkcs12_files
from sello.services.email_limits import RateLimiter, certificate_email_limits, take_email
from sello.services.issuers import IssuerLookup, find_issuer
from sello.settings import Settings, get_settings

logger = Logger(service="sello")

MIN_RSA_BITS = 2048
# An expiry warning whose day was missed (the run failed) still goes out up to this many days later.
WARNING_CATCH_UP_DAYS = 2


class CertificatesRepo(IssuerLookup, Protocol):
    def list_certificates(self, account_id: str, issuer_id: str) -> list[Certificate]: ...
    def get_certificate(self, account_id: str, issuer_id: str, serial: str) -> Certificate | None: ...
    def activate_certificate(self, issuer: Issuer, new: Certificate, now: datetime) -> bool: ...
    def certificates_expiring_on(self, day: date) -> list[Certificate]: ...
    def claim_warning(self, certificate: Certificate, days: int) -> bool: ...
    def release_warning(self, certificate: Certificate, days: int) -> None: ...


class Keystore(Protocol):
    def seal(self, plaintext: bytes | bytearray, context: dict[str, str]) -> Sealed: ...
    def open(self, sealed: Sealed, context: dict[str, str]) -> bytearray: ...


class AccountsLookup(Protocol):
    def get_account(self, account_id: str) -> Account | None: ...


class CertificateNotTrusted(Exception):
    """A live document's issuer has a certificate that signs test documents only. The sign task fails
    with this error name, which the workflow reports as `certificate_not_trusted`."""


def key_context(account_id: str, issuer_id: str) -> dict[str, str]:
    """KMS encryption context of an issuer's private key."""
    return {"account_id": account_id, "issuer_id": issuer_id}


# Reading and checking the uploaded files -----------------------------------------------------------

@dataclass(frozen=True)
class CheckedCertificate:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    tax_ids: set[str]
    warnings: list[CertificateWarning]
    trusted: bool = False  # chains to an authority the country recognises: may sign live documents
    number: str | None = None  # the plugin's certificate_number, where the country has one


def decode_base64_file(text: str, *, path: str) -> bytes:
    try:
        data = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        raise Unprocessable(_l("The certificate file is not valid base64."), code="invalid_certificate_file",
                            path=path) from None
    if not data:
        raise Unprocessable(_l("The certificate file is empty."), code="invalid_certificate_file", path=path)
    return data


def _spki(public_key) -> bytes:
    return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)


def _matches_key(certificate: x509.Certificate, key_spki: bytes) -> bool:
    try:
        return _spki(certificate.public_key()) == key_spki
    except (ValueError, UnsupportedAlgorithm):
        return False


def _for_signing(certificate: x509.Certificate) -> bool:
    try:
        return certificate.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    except (x509.ExtensionNotFound, ValueError):
        return False


def _day(ts: datetime, t: Translator | None = None) -> str:
    """A certificate's validity bound: in the reader's words in an email, ISO-like in the API."""
    if t is not None:
        return t.datetime(ts, "long", tz="UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def _mail(to: str, subject: str, text: str) -> Mail:
    """Email headers cannot hold line breaks: any control character (names stored before they were
    refused may have some) becomes a space."""
    return Mail(to=to, subject=" ".join(CONTROL_CHARACTERS.sub(" ", subject).split()), text=text)


def _test_only_warning(plugin: CountryPlugin) -> CertificateWarning:
    return CertificateWarning.of("certificate_test_only", _l(
        "The certificate does not chain to a certification authority recognised in {country}: it signs test "
        "documents only, and live documents are refused until a certificate from such an authority is "
        "uploaded.", country=plugin.name))


def _describe(certificate: Certificate, t: Translator) -> str:
    # Translators: the labels are padded so that the values line up; keep them aligned.
    return t.gettext("  Subject: {subject}\n  Issued by: {issuer}\n  Serial: {serial}\n").format(
        subject=certificate.subject, issuer=certificate.issuer, serial=certificate.serial)


def check_p12(data: bytes, password: str, *, tax_id: str, plugin: CountryPlugin, now: datetime,
              environment: Environment = "test", extra_authorities: Iterable[x509.Certificate] = (),
              file_path: str = "certificate", password_path: str = "password") -> CheckedCertificate:
    """Opens a PKCS#12 file and checks it can sign for `tax_id` now (check_credentials)."""
    bundle = pkcs12_files.open_pkcs12(data, password, file_path=file_path, password_path=password_path)
    certificate = bundle.cert.certificate if bundle.cert is not None else None
    return check_credentials(bundle.key, certificate, [c.certificate for c in bundle.additional_certs],
                             tax_id=tax_id, plugin=plugin, now=now, environment=environment,
                             extra_authorities=extra_authorities, file_path=file_path)


def check_credentials(key, certificate: x509.Certificate | None, chain: Iterable[x509.Certificate], *,
                      tax_id: str, plugin: CountryPlugin, now: datetime, environment: Environment = "test",
                      extra_authorities: Iterable[x509.Certificate] = (),
                      file_path: str = "certificate") -> CheckedCertificate:
    """Checks that the key and the certificate the plugin read (with the other certificates that came
    with them) can sign for `tax_id` now; raises Unprocessable at `file_path` otherwise. The checks:
    a key, a certificate, RSA of MIN_RSA_BITS, a certificate of the key meant for signatures (of
    several, one valid now, then the newest), the country's own rules (plugin.check_certificate),
    validity, the tax id (plugin.certificate_matches), then trust.

    Whether the certificate chains to a certification authority the country recognises (or to one
    of `extra_authorities`) is recorded as `trusted`. Only a trusted certificate signs live
    documents, so with a live API key (`environment` "live") an untrusted one is refused; with a
    test key it is accepted for test documents, with a warning."""
    certificates = [c for c in [certificate, *chain] if c is not None]

    def reject(message, code: str) -> Unprocessable:
        return Unprocessable(message, code=code, path=file_path)

    if key is None:
        raise reject(_l("The certificate file holds no private key; export it again including the private key."),
                     "certificate_key_missing")
    if not certificates:
        raise reject(_l("The certificate file holds a private key but no certificate."), "certificate_missing")
    if not isinstance(key, rsa.RSAPrivateKey) or key.key_size < MIN_RSA_BITS:
        raise reject(_l("The private key must be RSA of at least {bits} bits.", bits=MIN_RSA_BITS),
                     "certificate_key_unsupported")
    key_spki = _spki(key.public_key())
    own = [c for c in certificates if _matches_key(c, key_spki)]
    if not own:
        raise reject(_l("None of the certificates in the file belongs to its private key."),
                     "certificate_key_mismatch")
    signing = [c for c in own if _for_signing(c)]
    if not signing:
        raise reject(_l("The certificate is not meant for digital signatures (its key usage lacks "
                        "digitalSignature)."), "certificate_not_for_signing")
    # Several signing certificates for one key (a renewal): prefer one valid now, then the newest.
    certificate = max(signing, key=lambda c: (c.not_valid_before_utc <= now < c.not_valid_after_utc,
                                               c.not_valid_after_utc))
    others = [c for c in certificates if c is not certificate]
    tax_ids, trusted = check_signer(certificate, others, tax_id=tax_id, plugin=plugin, now=now,
                                    environment=environment, extra_authorities=extra_authorities, path=file_path)
    notes = [] if trusted else [_test_only_warning(plugin)]
    valid_to = certificate.not_valid_after_utc
    if certificate_status(valid_to, now) == "expiring":
        days = (valid_to - now).days
        notes.append(CertificateWarning.of("certificate_expiring", _ln(
            "The certificate expires on {date} (in {n} day); upload its replacement before then.",
            "The certificate expires on {date} (in {n} days); upload its replacement before then.", days,
            date=_day(valid_to))))
    return CheckedCertificate(key=key, certificate=certificate, tax_ids=tax_ids, warnings=notes,
                              trusted=trusted, number=plugin.certificate_number(certificate))


def check_signer(certificate: x509.Certificate, chain: Iterable[x509.Certificate], *, tax_id: str,
                 plugin: CountryPlugin, now: datetime, environment: Environment = "test",
                 extra_authorities: Iterable[x509.Certificate] = (), path: str = "certificate",
                 ) -> tuple[set[str], bool]:
    """(the tax ids it carries, whether it is trusted) of a certificate that signs for `tax_id` at
    `now`: the country's own rules, validity at `now`, the tax id, then trust (with a live
    `environment`, an untrusted one is refused). Raises Unprocessable at `path`. Shared by uploads
    (check_credentials) and documents sealed elsewhere (services/stamping.py), whose certificate is
    checked as an uploaded one would be, at the moment the document says it was sealed."""

    def reject(message, code: str) -> Unprocessable:
        return Unprocessable(message, code=code, path=path)

    plugin.check_certificate(certificate, path=path)
    valid_from, valid_to = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if now >= valid_to:
        raise reject(_l("The certificate expired on {date}.", date=_day(valid_to)), "certificate_expired")
    if now < valid_from:
        raise reject(_l("The certificate is not valid until {date}.", date=_day(valid_from)),
                     "certificate_not_yet_valid")
    tax_ids = plugin.certificate_tax_ids(certificate)
    if not plugin.certificate_matches(certificate, tax_id):
        carries = ", ".join(sorted(tax_ids)) or _l("no {name}", name=plugin.tax_id_name)
        raise reject(_l("The certificate is not issued to {name} {tax_id}; it carries {carries}.",
                        name=plugin.tax_id_name, tax_id=tax_id, carries=carries),
                     "certificate_tax_id_mismatch")
    trusted = plugin.certificate_trusted(certificate, chain, now=now, extra_authorities=extra_authorities)
    if not trusted and environment == "live":
        raise reject(_l("The certificate does not chain to a certification authority recognised in "
                        "{country}, so it cannot sign live documents; upload one issued by such an "
                        "authority, with its chain in the file.", country=plugin.name),
                     "certificate_not_trusted")
    return tax_ids, trusted


def uploaded_files(upload: CertificateUpload, request) -> dict[str, UploadedFile]:
    """The files of a validated upload body (either of the country's two models), by name: read from
    the form, or decoded from base64 (`invalid_certificate_file` at the JSON field otherwise)."""
    files = {}
    for file in upload.files:
        encoded = getattr(request, file.json_name, None)
        if encoded is not None:
            files[file.name] = UploadedFile(decode_base64_file(encoded, path=file.json_name), file.json_name)
        else:
            files[file.name] = UploadedFile(getattr(request, file.name), file.name)
    return files


@lru_cache(maxsize=4)
def extra_authorities(spec: str) -> tuple[x509.Certificate, ...]:
    """The certification authorities settings.trusted_ca_path adds (read once per process and value).
    A path that does not exist or a file that is not PEM is the operator's error: it raises."""
    return trust.load_authorities(spec)


# The service ------------------------------------------------------------------------------------

def warning_windows(thresholds: Iterable[int],
                    catch_up: int = WARNING_CATCH_UP_DAYS) -> list[tuple[int, range]]:
    """Each expiry-warning threshold (days before expiry) with the days left it is sent at: from the
    threshold down to `catch_up` days below it, but not into a more urgent threshold's days, nor
    past the expiry day. So the windows never overlap, and a certificate that is already within
    15 days gets the 15-day warning, never the 30-day one."""
    windows, previous = [], -1
    for threshold in sorted(set(thresholds)):
        windows.append((threshold, range(max(threshold - catch_up, previous + 1), threshold + 1)))
        previous = threshold
    return windows


@dataclass(frozen=True)
class ExpiryReport:
    date: str
    sent: int
    failed: int


class CertificateService:
    def __init__(self, repo: CertificatesRepo, keystore: Keystore, mailer: Mailer, accounts: AccountsLookup,
                 clock: Callable[[], datetime] = utcnow, settings: Settings | None = None,
                 limiter: RateLimiter | None = None):
        self.repo = repo
        self.keystore = keystore
        self.mailer = mailer
        self.accounts = accounts
        self.limiter = limiter
        self.clock = clock
        self.settings = settings or get_settings()

    # Upload ------------------------------------------------------------------------------------

    def upload_format(self, account_id: str, issuer_id: str) -> CertificateUpload:
        """The certificate files the issuer's country takes (its plugin's certificate_upload)."""
        return get_plugin(find_issuer(self.repo, account_id, issuer_id).country).certificate_upload

    def upload(self, account_id: str, issuer_id: str, request: Any,
               environment: Environment) -> CertificateView:
        """`request`: a body of one of the models of the issuer's country's certificate_upload (see
        upload_format). `environment` is the API key's: a live key accepts only a trusted certificate
        (check_credentials)."""
        issuer = find_issuer(self.repo, account_id, issuer_id)
        plugin = get_plugin(issuer.country)
        upload = plugin.certificate_upload
        now = self.clock().replace(microsecond=0)
        if request.notification_email:  # the notice goes out whatever the outcome: 429 before anything
            limits = certificate_email_limits(self.settings, issuer.id)
            take_email(self.limiter, self.settings, account_id, limits, now, "issuer")
        try:
            files = uploaded_files(upload, request)
            key, cert, chain = plugin.load_credentials(files, request.password)
            checked = check_credentials(key, cert, chain, tax_id=issuer.tax_id, plugin=plugin, now=now,
                                        environment=environment,
                                        extra_authorities=extra_authorities(self.settings.trusted_ca_path),
                                        file_path=files[upload.files[0].name].path)
            certificate = self._store(issuer, checked, request.notification_email, now,
                                      plugin.signature_size(checked.certificate))
        except SelloError as exc:
            logger.info("certificate rejected", account_id=account_id, issuer_id=issuer_id, code=exc.code)
            if request.notification_email:
                self._notify_rejected(issuer, plugin, request.notification_email, exc)
            if isinstance(exc, Unprocessable):  # the files were read and refused: the upload's outcome
                _emit(account_id, environment, "certificate.rejected", {
                    "object": "certificate", "issuer_id": issuer_id,
                    "error": {"code": exc.code, "message": exc.message}})
            raise
        logger.info("certificate stored", account_id=account_id, issuer_id=issuer_id,
                    serial=certificate.serial)
        if request.notification_email:
            self._notify_accepted(issuer, plugin, certificate, checked.warnings)
        view = self.view(account_id, issuer_id, warnings=checked.warnings)
        _emit(account_id, environment, "certificate.accepted",
              {**view.model_dump(mode="json", exclude_none=True), "issuer_id": issuer_id})
        return view

    def _store(self, issuer: Issuer, checked: CheckedCertificate, notification_email: str | None,
               now: datetime, signature_size: int) -> Certificate:
        cert = checked.certificate
        serial = format(cert.serial_number, "X")
        previous = self.repo.get_certificate(issuer.account_id, issuer.id, serial)
        pkcs8 = bytearray(checked.key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption()))
        try:
            sealed = self.keystore.seal(pkcs8, key_context(issuer.account_id, issuer.id))
        finally:
            wipe(pkcs8)
        certificate = Certificate(
            account_id=issuer.account_id, issuer_id=issuer.id, serial=serial,
            subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(),
            valid_from=cert.not_valid_before_utc, valid_to=cert.not_valid_after_utc,
            fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex().upper(),
            tax_ids=sorted(checked.tax_ids),
            certificate_der=cert.public_bytes(Encoding.DER), status="active", uploaded_at=now,
            notification_email=notification_email, private_key=sealed, trusted=checked.trusted,
            # The same certificate uploaded again keeps the warnings it was already sent.
            warnings_sent=previous.warnings_sent if previous and previous.status == "active" else set(),
            signature_size=signature_size, number=checked.number,
        )
        if not self.repo.activate_certificate(issuer, certificate, now):
            raise Conflict(_l("The issuer's certificate changed while this one was being stored; send it again."),
                           code="certificate_conflict")
        return certificate

    # Reading -----------------------------------------------------------------------------------

    def view(self, account_id: str, issuer_id: str,
             warnings: list[CertificateWarning] | None = None) -> CertificateView:
        issuer = find_issuer(self.repo, account_id, issuer_id)
        if issuer.certificate is None:
            raise NotFound(_l("This issuer has no certificate yet."), code="certificate_not_found")
        certificates = self.repo.list_certificates(account_id, issuer_id)
        active = next((c for c in certificates if c.serial == issuer.certificate.serial), None)
        if active is None:
            raise NotFound(_l("This issuer has no certificate yet."), code="certificate_not_found")
        now = self.clock()
        status = certificate_status(active.valid_to, now)
        if warnings is None:
            warnings = [] if active.trusted else [_test_only_warning(get_plugin(issuer.country))]
            if status == "expiring":
                warnings.append(CertificateWarning.of("certificate_expiring", _l(
                    "The certificate expires on {date}; upload its replacement.", date=_day(active.valid_to))))
            elif status == "expired":
                warnings.append(CertificateWarning.of("certificate_expired", _l(
                    "The certificate expired on {date}; documents cannot be signed until a valid one is "
                    "uploaded.", date=_day(active.valid_to))))
        history = sorted((c for c in certificates if c is not active and c.status == "replaced"),
                         key=lambda c: c.replaced_at or c.uploaded_at, reverse=True)
        return CertificateView(
            issuer_id=issuer_id, serial=active.serial, subject=active.subject, issuer=active.issuer,
            valid_from=active.valid_from, valid_to=active.valid_to, status=status, tax_ids=active.tax_ids,
            trusted=active.trusted,
            fingerprint_sha256=active.fingerprint_sha256, notification_email=active.notification_email,
            uploaded_at=active.uploaded_at, warnings=warnings,
            history=[CertificateHistoryEntry(serial=c.serial, subject=c.subject, issuer=c.issuer,
                                             valid_from=c.valid_from, valid_to=c.valid_to,
                                             uploaded_at=c.uploaded_at, replaced_at=c.replaced_at,
                                             number=c.number)
                     for c in history],
            number=active.number,
        )

    def load_signing_key(self, account_id: str, issuer_id: str, environment: Environment = "test",
                         ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        """The issuer's private key and certificate, ready to sign a document of `environment`: for a
        live one, the certificate must be trusted (CertificateNotTrusted otherwise). The key was
        checked in full on upload, so it is loaded here without repeating that (slow) check."""
        issuer = find_issuer(self.repo, account_id, issuer_id)
        active = (self.repo.get_certificate(account_id, issuer_id, issuer.certificate.serial)
                  if issuer.certificate else None)
        if active is None or active.private_key is None:
            raise NotFound(_l("This issuer has no certificate yet."), code="certificate_not_found")
        if environment == "live" and not active.trusted:
            raise CertificateNotTrusted(f"Certificate {active.serial} of issuer {issuer_id} signs test "
                                        "documents only.")
        pkcs8 = self.keystore.open(active.private_key, key_context(account_id, issuer_id))
        try:
            key = load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=True)
        finally:
            wipe(pkcs8)
        return key, x509.load_der_x509_certificate(active.certificate_der)

    # Expiry warnings ---------------------------------------------------------------------------

    def send_expiry_warnings(self, today: date) -> ExpiryReport:
        """Emails the active certificates that reached a threshold of settings.certificate_warning_days
        (days before expiry) in the last few days, with the most urgent threshold each reached; each
        (certificate, threshold) at most once. A problem with one certificate's email is logged and
        counted, and the others still go out."""
        now = self.clock()
        sent = failed = 0
        for threshold, days_left in warning_windows(self.settings.certificate_warning_days):
            for days in days_left:
                for certificate in self.repo.certificates_expiring_on(today + timedelta(days=days)):
                    if (certificate.valid_to <= now
                            # This warning, or a more urgent one, already went.
                            or any(d <= threshold for d in certificate.warnings_sent)
                            or not self.repo.claim_warning(certificate, threshold)):
                        continue
                    try:
                        self._warn(certificate, days)
                    except Exception:
                        logger.exception("expiry warning not sent", account_id=certificate.account_id,
                                         issuer_id=certificate.issuer_id, days=threshold)
                        self.repo.release_warning(certificate, threshold)
                        failed += 1
                    else:
                        sent += 1
                        _emit_expiring(certificate, days)
        return ExpiryReport(date=today.isoformat(), sent=sent, failed=failed)

    def _warn(self, certificate: Certificate, days: int) -> None:
        issuer = self.repo.get_issuer(certificate.account_id, certificate.issuer_id)
        if issuer is None:
            return
        recipient = certificate.notification_email or issuer.email
        if not recipient:
            account = self.accounts.get_account(certificate.account_id)
            recipient = account.email if account else None
        if not recipient:
            logger.warning("no address for an expiry warning", account_id=certificate.account_id,
                           issuer_id=issuer.id)
            return
        plugin = get_plugin(issuer.country)
        t = _issuer_translator(issuer)
        when = {0: t.gettext("today"), 1: t.gettext("tomorrow")}.get(days) or t.ngettext(
            "in {n} day", "in {n} days", days).format(n=days)
        text = t.gettext(
            "Hello,\n\nThe signing certificate of {name} ({tax_id_name} {tax_id}) expires {when}, on {date}."
            "\n\n{details}\nDocuments cannot be signed once it has expired. Renew it with your certification "
            "authority and upload the new file with PUT /v1/issuers/{issuer_id}/certificate.\n"
        ).format(name=issuer.legal_name, tax_id_name=plugin.tax_id_name, tax_id=issuer.tax_id, when=when,
                 date=_day(certificate.valid_to, t), details=_describe(certificate, t), issuer_id=issuer.id)
        subject = t.gettext("Your signing certificate for {name} expires {when}").format(
            name=issuer.legal_name, when=when)
        self.mailer.send(_mail(recipient, subject, text))

    # Upload notifications ------------------------------------------------------------------------

    def _notify_accepted(self, issuer: Issuer, plugin: CountryPlugin, certificate: Certificate,
                         notes: list[CertificateWarning]) -> None:
        t = _issuer_translator(issuer)
        lines = "".join(t.gettext("\nNote: {note}\n").format(note=n.localized(t)) for n in notes)
        text = t.gettext(
            "Hello,\n\nThe signing certificate for {name} ({tax_id_name} {tax_id}) was accepted and is now "
            "used to sign its documents.\n\n{details}  Valid from: {valid_from}\n  Valid to: {valid_to}\n"
        ).format(name=issuer.legal_name, tax_id_name=plugin.tax_id_name, tax_id=issuer.tax_id,
                 details=_describe(certificate, t), valid_from=_day(certificate.valid_from, t),
                 valid_to=_day(certificate.valid_to, t)) + lines
        self._send_quietly(_mail(certificate.notification_email,
                                 t.gettext("Signing certificate accepted for {name}").format(name=issuer.legal_name),
                                 text))

    def _notify_rejected(self, issuer: Issuer, plugin: CountryPlugin, to: str, error: SelloError) -> None:
        t = _issuer_translator(issuer)
        text = t.gettext(
            "Hello,\n\nThe signing certificate uploaded for {name} ({tax_id_name} {tax_id}) was not accepted, "
            "and nothing was stored.\n\n  Reason: {reason}\n  Code: {code}\n\nFix the file and upload it "
            "again with PUT /v1/issuers/{issuer_id}/certificate.\n"
        ).format(name=issuer.legal_name, tax_id_name=plugin.tax_id_name, tax_id=issuer.tax_id,
                 reason=error.localized(t), code=error.code, issuer_id=issuer.id)
        self._send_quietly(_mail(to, t.gettext("Signing certificate not accepted for {name}").format(
            name=issuer.legal_name), text))

    def _send_quietly(self, mail: Mail) -> None:
        """Upload notices are a courtesy: failing to send one never changes the upload's outcome."""
        try:
            self.mailer.send(mail)
        except Exception:
            logger.exception("certificate notice not sent")


def _issuer_translator(issuer: Issuer) -> Translator:
    """Certificate notices are read in the issuer's language, with its country's formats."""
    return translator(issuer.language, issuer.country)


def default_service() -> CertificateService:
    settings = get_settings()
    store = DynamoStore(settings.table_name)
    return CertificateService(DynamoIssuersRepo(store), KmsKeystore(settings.key_id), SesMailer(),
                              DynamoAccountsRepo(store), settings=settings, limiter=DynamoRateLimiter(store))


def send_expiry_warnings(today: date) -> ExpiryReport:
    return default_service().send_expiry_warnings(today)


def _emit(account_id: str, environment: str, event_type: str, data: dict) -> None:
    """A certificate's event; never raises (services.events.emit)."""
    from sello.services import events

    events.emit(account_id, environment, event_type, data)


def _emit_expiring(certificate: Certificate, days: int) -> None:
    """certificate.expiring, with the warning: a certificate signs both environments' documents, so
    the endpoints of both hear of it."""
    data = {"object": "certificate", "issuer_id": certificate.issuer_id, "serial": certificate.serial,
            "subject": certificate.subject, "valid_to": iso(certificate.valid_to), "days_left": days}
    for environment in ("test", "live"):
        _emit(certificate.account_id, environment, "certificate.expiring", data)
