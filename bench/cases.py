"""What `make bench` measures. Cold imports run in fresh interpreters; warm cases run in this one."""

from __future__ import annotations

import contextlib
import io
import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

EVENTS = Path(__file__).resolve().parent.parent / "events"

# (name, module, target in ms or None). A cold start pays for these imports before the first request.
# The baselines are what any Python function on this stack pays anyway (bench/baseline_runtime.py);
# each function's figure is also reported as a ratio to it, which carries over between machines
# better than milliseconds do.
BASELINES = (
    ("baseline_boto3", "boto3"),
    ("baseline_runtime", "bench.baseline_runtime"),
)
# A country's modules load on a function's first call (get_plugin loads the country's plugin module, which
# imports each step's module when the step runs), so they are counted with the function that first calls
# them.
_EC = "sello.countries.ec.plugin"
_EC_DOCUMENTS = f"functions.api.documents, {_EC}, sello.countries.ec.documents, sello.countries.ec.xml"
COLD_IMPORTS = (
    ("api_accounts", "functions.api.accounts", 300),
    ("api_issuers", "functions.api.issuers", 300),
    ("api_documents", _EC_DOCUMENTS, 300),
    ("authorizer", "functions.api.authorizer", 300),
    ("workflow_sign", f"functions.workflow.sign, {_EC}, sello.countries.ec.xml, sello.countries.ec.xades", 700),
    ("workflow_sign_mx", "functions.workflow.sign, sello.countries.mx.plugin, sello.countries.mx.cfdi", None),
    ("workflow_submit", f"functions.workflow.submit, {_EC}, sello.countries.ec.sri", None),
    ("workflow_render", f"functions.workflow.render, {_EC}, sello.countries.ec.ride, sello.countries.ec.ride_layout",
     None),
    ("certificate_expiry", "functions.scheduled.certificate_expiry", None),
    ("workflow_restart", "functions.scheduled.workflow_restart", None),
)

# (name, modules, code): the cold import and then the first request's own work, which a cold start also
# pays (a model's validator is built when it first validates). Reported next to the import alone.
FIRST_USE = (
    ("api_documents_first_body", _EC_DOCUMENTS,
     "from sello.models.document_request import CreateDocumentRequest; "
     "CreateDocumentRequest.model_validate_json(open('events/documents/create_invoice.body.json').read())"),
)


def warm_cases():
    """(name, callable, runs, target in ms or None) for code paths that run on every request or upload."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from cryptography.hazmat.primitives.serialization import load_der_private_key

    from local.certs import DEMO_PASSWORD, DEMO_RUC, make_p12, rsa_key
    from sello.countries import get_plugin
    from sello.services.certificates import check_p12

    p12 = make_p12(ruc=DEMO_RUC, password=DEMO_PASSWORD)
    plugin = get_plugin("EC")
    now = datetime.now(UTC)
    pkcs8 = rsa_key().private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())

    def upload_checks():
        check_p12(p12, DEMO_PASSWORD, tax_id=DEMO_RUC, plugin=plugin, now=now)

    def key_load_checked():
        load_der_private_key(pkcs8, None)

    def key_load_unchecked():
        load_der_private_key(pkcs8, None, unsafe_skip_rsa_key_validation=True)

    cases = [
        # The signing task's work per document, key in memory: build the XML of a 10-line factura and
        # sign it (XAdES-BES, RSA-SHA1); then the RIDE of the authorized document.
        *_ecuador(),
        # The signing task's work for Mexico, key in memory: build, seal (cadena by SAT's XSLT, RSA-SHA256)
        # and check against the XSD a 10-concepto CFDI; beside it satcfdi's own build and sign of the same
        # invoice (no schema check), the reference the issue asks to be no slower than.
        *_mexico_sign(),
        # The rendering task's work for Mexico: the printed CFDI of a stamped 10-concepto invoice.
        *_mexico_pdf(),
        # Once per certificate upload: open the PKCS#12, check the key in full, validity, usage, RUC.
        ("certificate_upload_checks", upload_checks, 15, None),
        # What the signing task would pay per cold start if it re-checked the key, and what it pays instead.
        ("private_key_load_checked", key_load_checked, 15, None),
        ("private_key_load_unchecked", key_load_unchecked, 200, 1),
    ]
    cases += _over_http()
    return cases


def _ecuador():
    import json

    from cryptography.hazmat.primitives.serialization import pkcs12

    from local.certs import DEMO_PASSWORD, DEMO_RUC, make_p12
    from sello.countries import get_plugin
    from sello.countries.ec import ride
    from sello.models.document_request import CreateDocumentRequest
    from sello.models.issuer_api import CreateIssuerRequest
    from sello.models.issuers import Issuer

    events = EVENTS
    now = datetime.now(UTC)
    issuer = Issuer(**CreateIssuerRequest.model_validate_json(
        (events / "issuers" / "create_issuer.body.json").read_text()).model_dump(),
        id="iss_bench", account_id="acc_bench", created_at=now, updated_at=now)
    body = json.loads((events / "documents" / "create_invoice.body.json").read_text())
    assert len(body["items"]) == 10
    request = CreateDocumentRequest.model_validate({**body, "issuer_id": issuer.id})
    plugin = get_plugin("EC")
    prepared = plugin.prepare(request, issuer, "test", now)
    numbered = plugin.number(prepared, 1, "doc_bench", "test")
    document = {"content": prepared.content, "number": numbered.number, "access_key": numbered.access_key,
                "environment": "test"}
    p12 = pkcs12.load_pkcs12(make_p12(ruc=DEMO_RUC, password=DEMO_PASSWORD), DEMO_PASSWORD.encode())
    key, cert = p12.key, p12.cert.certificate
    signed = plugin.sign(document, key, cert)
    record = (b'<?xml version="1.0" encoding="UTF-8"?><autorizacion><estado>AUTORIZADO</estado>'
              b"<numeroAutorizacion>" + numbered.access_key.encode() + b"</numeroAutorizacion>"
              b"<fechaAutorizacion>" + now.isoformat().encode() + b"</fechaAutorizacion>"
              b"<ambiente>PRUEBAS</ambiente><comprobante><![CDATA[" + signed + b"]]></comprobante>"
              b"<mensajes/></autorizacion>")
    logo = _logo()
    return [
        ("build_and_sign_10_line_factura", lambda: plugin.sign(document, key, cert), 300, 5),
        ("ride_10_line_factura", lambda: ride.render(record), 50, 30),
        ("ride_10_line_factura_with_logo", lambda: ride.render(record, logo=logo), 50, 30),
    ]


def _mexico_sign():
    import json

    from local.certs import DEMO_PASSWORD, make_csd
    from sello.countries.mx import csd, documents
    from sello.countries.mx.issuer import validate_issuer
    from sello.countries.mx.plugin import plugin
    from sello.countries.mx.requests import MexicoDocumentRequest

    now = datetime.now(UTC)
    body = json.loads((EVENTS / "issuers" / "create_issuer_mx.body.json").read_text())
    issuer = validate_issuer(body["tax_id"], body["legal_name"],
                             {name: body[name] for name in ("regime", "zip", "branches")})
    request = MexicoDocumentRequest.model_validate(
        json.loads((EVENTS / "documents" / "create_invoice_mx.body.json").read_text()))
    assert len(request.items) == 10
    prepared = documents.prepare(request, issuer, "test", now)
    numbered = documents.number(prepared, 1, "doc_bench", "test")
    document = {"content": prepared.content, "number": numbered.number, "environment": "test"}
    cer, key_der = make_csd(rfc=body["tax_id"], name=body["legal_name"], password=DEMO_PASSWORD)
    key, cert = csd.load_pair(cer, key_der, DEMO_PASSWORD, cer_path="cer", key_path="key",
                              password_path="password")
    satcfdi_sign = _satcfdi_build_and_sign(request, body, cer, key, cert)
    return [
        ("build_seal_validate_10_concept_cfdi", lambda: plugin.sign(document, key, cert), 200, None),
        ("satcfdi_build_and_sign_10_concept_cfdi", satcfdi_sign, 200, None),
    ]


def _satcfdi_build_and_sign(request, issuer: dict, cer: bytes, key, cert):
    """satcfdi's own builders and signer on the same invoice (amounts computed by satcfdi)."""
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
    from satcfdi.create.cfd import cfdi40
    from satcfdi.create.cfd.catalogos import Impuesto, TipoFactor
    from satcfdi.models import Signer

    signer = Signer.load(certificate=cer, key=key.private_bytes(Encoding.DER, PrivateFormat.PKCS8,
                                                                NoEncryption()))
    customer = request.customer

    def build_and_sign():
        invoice = cfdi40.Comprobante(
            emisor=cfdi40.Emisor(rfc=issuer["tax_id"], nombre=issuer["legal_name"], regimen_fiscal=issuer["regime"]),
            lugar_expedicion=issuer["zip"], metodo_pago="PUE", forma_pago=request.payment_form, serie="A",
            folio="1",
            receptor=cfdi40.Receptor(rfc=customer.tax_id, nombre=customer.name,
                                     domicilio_fiscal_receptor=customer.zip,
                                     regimen_fiscal_receptor=customer.tax_regime, uso_cfdi=customer.cfdi_use),
            conceptos=[cfdi40.Concepto(
                clave_prod_serv=item.product_code, cantidad=item.quantity, clave_unidad=item.unit_code,
                descripcion=item.description, valor_unitario=item.unit_price, descuento=item.discount or None,
                objeto_imp="02", impuestos=cfdi40.Impuestos(traslados=cfdi40.Traslado(
                    impuesto=Impuesto.IVA, tipo_factor=TipoFactor.TASA, tasa_o_cuota=Decimal("0.160000"))))
                for item in request.items])
        invoice.sign(signer)
        return invoice.xml_bytes()

    return build_and_sign


def _mexico_pdf():
    from sello.countries.mx import pdf

    cfdi = _stamped_cfdi(10)
    logo = _logo()
    return [
        ("cfdi_pdf_10_concepts", lambda: pdf.render(cfdi), 50, 30),
        ("cfdi_pdf_10_concepts_with_logo", lambda: pdf.render(cfdi, logo=logo), 50, 30),
    ]


def _stamped_cfdi(concepts: int) -> bytes:
    """A stamped CFDI 4.0 invoice as a PAC returns it: `concepts` lines with IVA 16 % (every third
    with a discount), its totals, and a TimbreFiscalDigital (sellos of the right length; the PDF does
    not verify them)."""
    import base64
    import hashlib
    from decimal import Decimal

    from lxml import etree

    cfdi_ns, tfd_ns = "http://www.sat.gob.mx/cfd/4", "http://www.sat.gob.mx/TimbreFiscalDigital"
    sello = base64.b64encode(hashlib.shake_256(b"emisor").digest(256)).decode()
    root = etree.Element(f"{{{cfdi_ns}}}Comprobante", nsmap={"cfdi": cfdi_ns, "tfd": tfd_ns})
    etree.SubElement(root, f"{{{cfdi_ns}}}Emisor", Rfc="EKU9003173C9", Nombre="ESCUELA KEMPER URGATE",
                     RegimenFiscal="601")
    etree.SubElement(root, f"{{{cfdi_ns}}}Receptor", Rfc="MCI7306249Y1",
                     Nombre="MUNICIPIO DE CUAUTITLAN IZCALLI", DomicilioFiscalReceptor="54700",
                     RegimenFiscalReceptor="603", UsoCFDI="G03")
    items = etree.SubElement(root, f"{{{cfdi_ns}}}Conceptos")
    subtotal = discount = tax_base = tax = Decimal(0)
    cent = Decimal("0.01")
    for i in range(concepts):
        quantity, price = Decimal(i % 5 + 1), Decimal(250 + 17 * i) + Decimal("0.5")
        amount = (quantity * price).quantize(cent)
        off = (amount / 10).quantize(cent) if i % 3 == 0 else Decimal(0)
        line_tax = ((amount - off) * Decimal("0.16")).quantize(cent)
        item = etree.SubElement(items, f"{{{cfdi_ns}}}Concepto", ClaveProdServ="43232408",
                                NoIdentificacion=f"SKU-{i:03d}", Cantidad=str(quantity), ClaveUnidad="H87",
                                Unidad="Pieza", ValorUnitario=str(price), Importe=str(amount), ObjetoImp="02",
                                Descripcion=f"Licencia de software de facturación, módulo {i + 1}")
        if off:
            item.set("Descuento", str(off))
        taxes = etree.SubElement(item, f"{{{cfdi_ns}}}Impuestos")
        transfers = etree.SubElement(taxes, f"{{{cfdi_ns}}}Traslados")
        etree.SubElement(transfers, f"{{{cfdi_ns}}}Traslado", Base=str(amount - off), Impuesto="002",
                         TipoFactor="Tasa", TasaOCuota="0.160000", Importe=str(line_tax))
        subtotal, discount = subtotal + amount, discount + off
        tax_base, tax = tax_base + amount - off, tax + line_tax
    summary = etree.SubElement(root, f"{{{cfdi_ns}}}Impuestos", TotalImpuestosTrasladados=str(tax))
    etree.SubElement(etree.SubElement(summary, f"{{{cfdi_ns}}}Traslados"), f"{{{cfdi_ns}}}Traslado",
                     Base=str(tax_base), Impuesto="002", TipoFactor="Tasa", TasaOCuota="0.160000",
                     Importe=str(tax))
    etree.SubElement(etree.SubElement(root, f"{{{cfdi_ns}}}Complemento"), f"{{{tfd_ns}}}TimbreFiscalDigital",
                     Version="1.1", UUID="6F35D3B5-3651-5370-BC2C-14CDBE384CD7",
                     FechaTimbrado="2026-03-14T10:16:02", RfcProvCertif="SPR190613I52", SelloCFD=sello,
                     NoCertificadoSAT="30001000000500003456",
                     SelloSAT=base64.b64encode(hashlib.shake_256(b"sat").digest(256)).decode())
    for key, value in {"Version": "4.0", "Serie": "A", "Folio": "42", "Fecha": "2026-03-14T10:15:30",
                       "Sello": sello, "FormaPago": "03", "NoCertificado": "30001000000500003416",
                       "Certificado": "MIIB", "SubTotal": str(subtotal), "Descuento": str(discount),
                       "Moneda": "MXN", "Total": str(subtotal - discount + tax), "TipoDeComprobante": "I",
                       "Exportacion": "01", "MetodoPago": "PUE", "LugarExpedicion": "86000"}.items():
        root.set(key, value)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def _logo() -> bytes:
    """A logo as services.logos stores one: a PNG of 600 × 200 pixels with transparency."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (600, 200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((4, 4, 596, 196), radius=36, fill=(20, 50, 110, 255))
    draw.ellipse((40, 40, 160, 160), fill=(240, 190, 40, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _over_http():
    """The main job over HTTP against the local stack (emulator, API Gateway adapter and SRI simulator
    included): from sign-up to an authorized factura, and a factura alone from POST to authorized."""
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ["SELLO_POLL_FIRST_WAIT_SECONDS"] = "0"
    import atexit
    import itertools
    import json
    import tempfile
    import time

    import httpx

    from local import demo
    from local.sri.simulator import ADMIN_PATH, BASE_PATH
    from local.stack import start_stack

    stack = start_stack(seed=True, outbox_dir=None, access_log=False)
    atexit.register(stack.stop)
    out_dir = Path(tempfile.mkdtemp(prefix="sello-bench-"))
    counter = itertools.count()
    client = httpx.Client(base_url=stack.api_url, timeout=30, trust_env=False)
    authed = {"Authorization": f"Bearer {stack.api_key}"}

    def authorized_get():
        client.get("/v1/accounts/me", headers=authed).raise_for_status()

    def main_job():
        # Every run signs up a new account with the same demo RUC and issues its factura 001-002-000000001;
        # SRI (and its simulator) would refuse that number the second time (45), so the simulator forgets.
        httpx.post(stack.sri_url.removesuffix(BASE_PATH) + ADMIN_PATH + "/reset", trust_env=False).raise_for_status()
        # The demo's step-by-step output is kept out of the benchmark's JSON.
        with (httpx.Client(base_url=stack.api_url, timeout=30, trust_env=False) as api,
              contextlib.redirect_stdout(io.StringIO())):
            demo.run(api, email=f"bench{next(counter)}@example.com", out_dir=out_dir)

    def invoice_to_authorized():
        created = client.post("/v1/documents", json=invoice, headers=issuing)
        created.raise_for_status()
        url = f"/v1/documents/{created.json()['id']}"
        while (status := client.get(url, headers=issuing).json()["status"]) == "processing":
            time.sleep(0.01)
        if status != "authorized":
            raise RuntimeError(f"the benchmark invoice ended {status}")

    with contextlib.redirect_stdout(io.StringIO()):
        key, issuer_id, _ = demo.run(client, email="bench-issuer@example.com", out_dir=out_dir)
    issuing = {"Authorization": f"Bearer {key}"}
    invoice = {**json.loads((EVENTS / "documents" / "create_invoice.body.json").read_text()),
               "issuer_id": issuer_id}
    return [
        ("local_authorized_get", authorized_get, 50, None),
        # `make demo`'s steps: sign up, confirm, register the issuer, upload its certificate, issue a
        # factura, wait for its authorization, download its XML and PDF.
        ("local_demo_signup_to_authorized_pdf", main_job, 5, None),
        # POST /v1/documents until GET says authorized, the simulator deciding at once and the
        # workflow polling without waiting: sign, submit, poll, render and email included.
        ("local_invoice_post_to_authorized", invoice_to_authorized, 5, None),
    ]

