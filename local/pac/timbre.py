"""The simulator's "SAT": a local certificate that signs Timbres Fiscales Digitales, and the stamping of a
CFDI with a TimbreFiscalDigital 1.1.

The certificate is made at start with cryptography (RSA 2048, self-signed, no fiscal validity), with
the subject SAT gives its TFD certificates (O and CN "SERVICIO DE ADMINISTRACION TRIBUTARIA",
x500UniqueIdentifier SAT970701NN3) and a serial number whose bytes spell 20 ASCII digits, so its
NoCertificadoSAT derives from it as SAT's do.

A stamp adds `cfdi:Complemento/tfd:TimbreFiscalDigital` (into the document's Complemento, created
before an Addenda when there is none) with Version 1.1, UUID (version 4, upper case), FechaTimbrado
(Mexico City time, no offset), RfcProvCertif, SelloCFD (the CFDI's Sello), NoCertificadoSAT and
SelloSAT: RSA-SHA256 over the TFD's cadena from SAT's cadenaoriginal_TFD_1_1.xslt. The document is
re-serialized by lxml: attributes, their values and order, namespaces, comments and the Addenda are
kept, and no template of the CFDI's cadena matches the TFD, so the emisor's sello still verifies."""

from __future__ import annotations

import base64
import copy
import io
import secrets
import uuid as uuids
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from lxml import etree

from local.pac import sat

# The PAC's RFC written in RfcProvCertif (SAT's test PAC).
RFC_PROV_CERTIF = "SPR190613I52"
SAT_RFC = "SAT970701NN3"
VERIFY_URL = "https://verificacfdi.facturaelectronica.sat.gob.mx/default.aspx"
# Order of the CFDI 4.0 children a Complemento goes after (cfdv40.xsd).
BEFORE_COMPLEMENTO = ("InformacionGlobal", "CfdiRelacionados", "Emisor", "Receptor", "Conceptos", "Impuestos")


@cache
def _sat_key() -> rsa.RSAPrivateKey:
    """One key per process: making one costs about 0.1 s, and several simulators may start in a test run."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass(frozen=True)
class LocalSat:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate
    number: str  # NoCertificadoSAT

    @classmethod
    def generate(cls) -> LocalSat:
        number = "30001" + "".join(secrets.choice("0123456789") for _ in range(15))
        key = _sat_key()
        name = x509.Name([
            x509.NameAttribute(NameOID.COMMON_NAME, "SERVICIO DE ADMINISTRACION TRIBUTARIA"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SERVICIO DE ADMINISTRACION TRIBUTARIA"),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME,
                               "Simulador local de PAC (sin validez fiscal)"),
            x509.NameAttribute(NameOID.X500_UNIQUE_IDENTIFIER, SAT_RFC),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
        ])
        now = datetime.now(UTC)
        certificate = (
            x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int.from_bytes(number.encode("ascii"), "big"))
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=4 * 365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256())
        )
        return cls(key, certificate, number)

    @property
    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> str:
        return self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii")

    def sign(self, text: str) -> str:
        signature = self.key.sign(text.encode("utf-8"), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()


@dataclass(frozen=True)
class Stamp:
    """A stamped document and its timbre, as SW's answers carry them."""

    uuid: str
    fecha_timbrado: str
    sello_cfd: str
    sello_sat: str
    no_certificado_sat: str
    no_certificado_cfdi: str
    cadena_original_sat: str
    tfd: str  # the TimbreFiscalDigital element alone, with an XML declaration
    cfdi: str  # the stamped document


def stamp(root: etree._Element, sat_cert: LocalSat, now: datetime) -> Stamp:
    """Adds a TimbreFiscalDigital to a copy of the checked document (`root`, parsed from the bytes
    received) and returns the stamped document with its timbre."""
    document = copy.deepcopy(root.getroottree()).getroot()  # the caller's tree stays as it was
    fecha = now.astimezone(sat.mexico_city()).replace(tzinfo=None, microsecond=0).isoformat()
    uuid = str(uuids.uuid4()).upper()
    sello = document.get("Sello", "")
    tfd = etree.Element(f"{{{sat.TFD_NS}}}TimbreFiscalDigital", nsmap={"tfd": sat.TFD_NS, "xsi": sat.XSI_NS})
    tfd.set(f"{{{sat.XSI_NS}}}schemaLocation", sat.TFD_SCHEMA_LOCATION)
    for name, value in (("Version", "1.1"), ("UUID", uuid), ("FechaTimbrado", fecha),
                        ("RfcProvCertif", RFC_PROV_CERTIF), ("SelloCFD", sello),
                        ("NoCertificadoSAT", sat_cert.number)):
        tfd.set(name, value)
    cadena = sat.tfd_cadena(tfd)
    sello_sat = sat_cert.sign(cadena)
    tfd.set("SelloSAT", sello_sat)
    tfd_text = etree.tostring(tfd, xml_declaration=True, encoding="UTF-8").decode("utf-8")

    complemento = document.find(f"{{{sat.CFDI_NS}}}Complemento")
    if complemento is None:
        complemento = etree.Element(f"{{{sat.CFDI_NS}}}Complemento")
        anchor = [child for child in document if isinstance(child.tag, str)
                  and etree.QName(child).localname in BEFORE_COMPLEMENTO]
        if anchor:
            anchor[-1].addnext(complemento)
        else:
            document.insert(0, complemento)
    complemento.append(tfd)
    cfdi = etree.tostring(document.getroottree(), xml_declaration=True, encoding="UTF-8").decode("utf-8")
    return Stamp(uuid=uuid, fecha_timbrado=fecha, sello_cfd=sello, sello_sat=sello_sat,
                 no_certificado_sat=sat_cert.number, no_certificado_cfdi=document.get("NoCertificado", ""),
                 cadena_original_sat=cadena, tfd=tfd_text, cfdi=cfdi)


def verification_url(uuid: str, emisor: str, receptor: str, total: str, sello: str) -> str:
    """SAT's verification address printed as the CFDI's QR code."""
    return f"{VERIFY_URL}?id={uuid}&re={emisor}&rr={receptor}&tt={total}&fe={sello[-8:]}"


def qr_png_base64(text: str) -> str:
    """The QR code of `text` as a base64 PNG (SW's qrCode); "" without qrcode (a satcfdi dependency)."""
    try:
        import qrcode
    except ImportError:
        return ""
    image = qrcode.make(text, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
