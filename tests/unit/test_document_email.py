"""The document email: HTML with a plain-text alternative and the two files attached, in the issuer's
language, from the platform's address under the issuer's name, replies to the issuer; every value
escaped. Rendered by headless Chromium when one is installed."""

from __future__ import annotations

import email
import email.policy
import html
import re
import shutil
import subprocess
from dataclasses import dataclass

import pytest

from sello.adapters.mailer import Mail, mime_bytes
from sello.services.delivery import document_mail

SENDER = "no-reply@sello.test"
ACCESS_KEY = "0203202601179999999000110010010000000420000004213"
DOCUMENT = {
    "id": "doc_abcdefghij0123456789", "type": "invoice", "country": "EC", "number": "001-001-000000042",
    "title": "Factura", "issuer_name": "Comercial Andina S.A.", "issue_date": "2026-03-02",
    "totals": {"currency": "USD", "subtotal": "1073.48", "tax": "161.02", "total": "1234.50"},
    "access_key": ACCESS_KEY, "authorization_number": ACCESS_KEY,
}


@dataclass
class Issuer:
    language: str = "es"
    country: str = "EC"
    legal_name: str = "Comercial Andina S.A."
    trade_name: str | None = "Andina Store"
    email: str | None = "ventas@andina.example.com"


def message(issuer=None, document=DOCUMENT, logo: bytes | None = None) -> email.message.EmailMessage:
    mail = document_mail(document, "compras@example.com", b"<autorizacion/>", b"%PDF-1.4 test", issuer=issuer,
                         logo=logo)
    return email.message_from_bytes(mime_bytes(mail, SENDER), policy=email.policy.default)


def parts(msg) -> list[str]:
    return [p.get_content_type() for p in msg.walk()]


def test_html_and_text_alternatives_inside_mixed_with_the_files_attached():
    msg = message(Issuer())
    assert parts(msg) == ["multipart/mixed", "multipart/alternative", "text/plain", "text/html",
                          "application/xml", "application/pdf"]
    assert [a.get_filename() for a in msg.iter_attachments()] == ["001-001-000000042.xml", "001-001-000000042.pdf"]
    assert [a.get_content() for a in msg.iter_attachments()] == [b"<autorizacion/>", b"%PDF-1.4 test"]


def test_from_is_the_platform_address_under_the_trade_name_and_replies_go_to_the_issuer():
    msg = message(Issuer())
    assert msg["From"].addresses[0].display_name == "Andina Store"
    assert msg["From"].addresses[0].addr_spec == SENDER
    assert msg["Reply-To"] == "ventas@andina.example.com"
    without_trade_name = message(Issuer(trade_name=None, email=None))
    assert without_trade_name["From"].addresses[0].display_name == "Comercial Andina S.A."
    assert without_trade_name["Reply-To"] is None


@pytest.mark.parametrize("language,expected", [
    ("es", ["Factura 001-001-000000042", "2 de marzo de 2026", "$1.234,50", "Clave de acceso"]),
    ("en", ["Invoice 001-001-000000042", "March 2, 2026", "$1,234.50", "Access key (clave de acceso)"]),
])
def test_the_issuers_language_decides_the_texts_and_formats(language, expected):
    msg = message(Issuer(language=language))
    text = msg.get_body(("plain",)).get_content()
    page = msg.get_body(("html",)).get_content()
    for fact in [*expected, ACCESS_KEY]:
        assert fact in text
        assert html.escape(fact) in page
    assert msg["Subject"] == f"{expected[0]} - Andina Store"
    assert f'<html lang="{language}">' in page


def test_without_an_issuer_the_email_is_spanish_from_the_stored_fields():
    msg = message(None)
    text = msg.get_body(("plain",)).get_content()
    assert text.startswith("Comercial Andina S.A. le envió este comprobante: Factura 001-001-000000042.")
    assert msg["Reply-To"] is None


def test_every_value_in_the_html_is_escaped():
    hostile = Issuer(trade_name='<img src=x onerror="alert(1)">', legal_name="Andina & Hijos <script>x</script>")
    document = {**DOCUMENT, "number": "001-001-<b>42</b>"}
    page = message(hostile, document).get_body(("html",)).get_content()
    assert "<script>" not in page and "<img src=x" not in page and "<b>42</b>" not in page
    assert "Andina &amp; Hijos &lt;script&gt;x&lt;/script&gt;" in page


def test_a_name_with_a_line_break_cannot_add_a_header():
    msg = message(Issuer(trade_name="Andina\r\nBcc: victim@example.com"))
    assert msg["Bcc"] is None
    assert msg["From"].addresses[0].display_name == "Andina Bcc: victim@example.com"


@pytest.mark.parametrize("subject", ["Su certificado de firma de Comercial Andina S.A. vence en 30 días",
                                     "Factura 001-001-000000042 - Comercialización Ñandú Cía. Ltda. " * 3])
def test_accented_subjects_read_back_exactly(subject):
    raw = mime_bytes(Mail(to="ana@example.com", subject=subject.strip(), text="x"), SENDER)
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == subject.strip()


def test_a_logo_is_shown_inline_from_the_html():
    msg = message(Issuer(), logo=b"\x89PNG\r\n\x1a\nlogo")
    page = msg.get_body(("html",)).get_content()
    assert 'src="cid:logo"' in page
    related = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(related) == 1 and related[0]["Content-ID"] == "<logo>"
    assert "multipart/related" in parts(msg)
    assert 'src="cid:' not in message(Issuer()).get_body(("html",)).get_content()


# Headless Chromium ---------------------------------------------------------------------------------

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)),
                None)
# Added to the page only here, to measure it after layout: the widest element's right edge, and the
# page's own scroll width, in CSS pixels.
MEASURE = """<script>
window.addEventListener("load", () => {
  let right = 0;
  for (const el of document.body.querySelectorAll("*")) right = Math.max(right, el.getBoundingClientRect().right);
  document.body.setAttribute("data-right", Math.ceil(right));
  document.body.setAttribute("data-scroll", document.documentElement.scrollWidth);
});
</script>"""


def render(page: str, tmp_path, width: int) -> str:
    path = tmp_path / "email.html"
    path.write_text(page.replace("</body>", MEASURE + "</body>"))
    done = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                           f"--window-size={width},900", "--virtual-time-budget=2000", "--dump-dom",
                           path.as_uri()], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary on PATH (Debian: apt-get install chromium)")
@pytest.mark.parametrize("language", ["es", "en"])
def test_chromium_renders_the_facts_within_600_pixels(tmp_path, language):
    long_name = Issuer(language=language, legal_name="Comercializadora Internacional de Productos Andinos "
                                                     "y Derivados del Cacao Fino de Aroma S.A." * 2)
    page = message(long_name).get_body(("html",)).get_content()
    dom = render(page, tmp_path, 600)
    text = html.unescape(re.sub(r"<[^>]+>", " ", dom.split("<body", 1)[1]))
    total = "$1.234,50" if language == "es" else "$1,234.50"
    assert total in text
    assert ACCESS_KEY in re.sub(r"\s+", "", text)  # the clave may wrap, never lose a digit
    right = int(re.search(r'data-right="(\d+)"', dom)[1])
    scroll = int(re.search(r'data-scroll="(\d+)"', dom)[1])
    assert right <= 600 and scroll <= 600, (right, scroll)


def test_a_mexican_cfdi_email_names_the_folio_fiscal_and_writes_pesos_as_mexico_does():
    uuid = "5FB2822E-396D-4725-8521-CDC4BDD20CCF"
    document = {**DOCUMENT, "country": "MX", "number": "A-42", "access_key": "", "authorization_number": uuid,
                "totals": {"currency": "MXN", "subtotal": "1064.22", "tax": "170.28", "total": "1234.50"}}
    text = message(Issuer(country="MX", legal_name="ESCUELA KEMPER URGATE"), document).get_body(
        ("plain",)).get_content()
    assert f"Folio fiscal (UUID): {uuid}" in text
    assert "Clave de acceso" not in text
    assert "1,234.50" in text  # es-MX: comma for thousands, point for decimals


@pytest.mark.parametrize("status, language, subject, intro", [
    ("accepted", "es", "Cancelado: ", "fue cancelado ante la autoridad tributaria"),
    ("expired", "en", "Cancelled (the time to answer passed): ", "was cancelled at the tax authority"),
    ("rejected", "es", "Cancelación rechazada: ", "no se concretó; el documento sigue vigente"),
    ("failed", "en", "Cancellation not completed: ", "did not go through; the document stays in force"),
])
def test_the_final_state_of_a_cancellation_with_the_authoritys_receipt(status, language, subject, intro):
    cancellation = {**DOCUMENT, "cancellation_status": status}
    mail = document_mail(DOCUMENT, "compras@example.com", b"<autorizacion/>", b"%PDF-1.4 cancelled",
                         issuer=Issuer(language=language), cancellation=cancellation, receipt=b"<Acuse/>")
    msg = email.message_from_bytes(mime_bytes(mail, SENDER), policy=email.policy.default)
    assert msg["Subject"].startswith(subject) and "001-001-000000042" in msg["Subject"]
    text = msg.get_body(("plain",)).get_content()
    assert intro in text
    assert [a.get_filename() for a in msg.iter_attachments()] == [
        "001-001-000000042.xml", "001-001-000000042.pdf", "001-001-000000042.cancelacion.xml"]
    assert intro.split(";")[0] in html.unescape(msg.get_body(("html",)).get_content())


def test_without_a_receipt_a_cancellations_email_carries_the_two_files():
    mail = document_mail(DOCUMENT, "compras@example.com", b"<autorizacion/>", b"%PDF-1.4", issuer=Issuer(),
                         cancellation={"cancellation_status": "failed"})
    assert [a.filename for a in mail.attachments] == ["001-001-000000042.xml", "001-001-000000042.pdf"]
