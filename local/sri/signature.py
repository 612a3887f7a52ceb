"""Verification of SRI XAdES-BES signatures, independent of the code that makes them.

The cryptographic work (reference resolution through both `id` and `Id`, the enveloped-signature
transform, canonicalization as each signature declares it, the three reference digests, the
SignatureValue over the canonical SignedInfo, and the SigningCertificate digest) is done by signxml's
XAdESVerifier, a library Sello's signer does not use. Around it this module checks what SRI requires
of the shape: exactly one signature, a child of the root element; RSA with SHA-1 or SHA-256; exactly
three references, one each to the comprobante (the root, `id="comprobante"`), the signature's
KeyInfo and its SignedProperties; a KeyInfo RSAKeyValue, when present, equal to the certificate's
key; and a SigningCertificate serial equal to the certificate's.

Not checked here, although SRI checks them: the certificate's chain of trust and revocation. The
first certificate in KeyInfo is taken as the signer's, so self-signed test certificates verify.
Only its validity dates are checked, against the current time.
"""

from __future__ import annotations

import base64
import binascii

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from lxml import etree
from signxml import DigestAlgorithm, SignatureMethod
from signxml.exceptions import SignXMLException
from signxml.xades import XAdESSignatureConfiguration, XAdESVerifier

DS = "http://www.w3.org/2000/09/xmldsig#"
ETSI = "http://uri.etsi.org/01903/v1.3.2#"
NS = {"ds": DS, "etsi": ETSI}
ROOT_ID = "comprobante"

_CONFIG = XAdESSignatureConfiguration(
    location="./",  # a child of the root element
    expect_references=3,
    signature_methods=frozenset({SignatureMethod.RSA_SHA1, SignatureMethod.RSA_SHA256}),
    digest_algorithms=frozenset({DigestAlgorithm.SHA1, DigestAlgorithm.SHA256}),
    ignore_ambiguous_key_info=True,  # RSAKeyValue is compared below, with a clearer message
)
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


class InvalidSignature(Exception):
    """The document's signature is missing, malformed or does not verify; `reason` says why."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def _number(element: etree._Element | None) -> int | None:
    if element is None or not element.text:
        return None
    try:
        return int.from_bytes(base64.b64decode("".join(element.text.split()), validate=True), "big")
    except (binascii.Error, ValueError):
        return None


def _target(root: etree._Element, uri: str | None) -> etree._Element | None:
    """The one element a same-document reference names through `id`, `Id`, `ID` or `xml:id`; None
    when the reference is not of that form or the name is missing or used more than once."""
    if not uri or not uri.startswith("#"):
        return None
    found = root.xpath("//*[@id=$v or @Id=$v or @ID=$v or @xml:id=$v]", v=uri[1:])
    return found[0] if len(found) == 1 else None


def _certificate(signature: etree._Element) -> x509.Certificate:
    encoded = signature.find("ds:KeyInfo/ds:X509Data/ds:X509Certificate", NS)
    if encoded is None or not (encoded.text or "").strip():
        raise InvalidSignature("the signature has no X509Certificate in KeyInfo")
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(encoded.text.split()), validate=True))
    except (binascii.Error, ValueError):
        raise InvalidSignature("the X509Certificate in KeyInfo cannot be read") from None


def _check_references(root: etree._Element, signature: etree._Element) -> None:
    references = signature.findall("ds:SignedInfo/ds:Reference", NS)
    targets = [_target(root, ref.get("URI")) for ref in references]
    for ref, target in zip(references, targets, strict=True):
        if target is None:
            raise InvalidSignature(f"reference {ref.get('URI')!r} does not name exactly one element")
    if root.get("id") != ROOT_ID or not any(t is root for t in targets):
        raise InvalidSignature(f'the comprobante is not signed (no reference to the root element '
                               f'with id="{ROOT_ID}")')
    key_info = signature.find("ds:KeyInfo", NS)
    if key_info is None or not any(t is key_info for t in targets):
        raise InvalidSignature("the KeyInfo is not signed")
    properties = signature.find("ds:Object/etsi:QualifyingProperties/etsi:SignedProperties", NS)
    if properties is None or not any(t is properties for t in targets):
        raise InvalidSignature("the SignedProperties are not signed")
    if len(references) != 3:
        raise InvalidSignature(f"expected 3 references, found {len(references)}")


def _check_certificate_fields(signature: etree._Element, certificate: x509.Certificate) -> None:
    public = certificate.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise InvalidSignature("the certificate's key is not RSA")
    key_value = signature.find("ds:KeyInfo/ds:KeyValue/ds:RSAKeyValue", NS)
    if key_value is not None:
        numbers = public.public_numbers()
        if (_number(key_value.find("ds:Modulus", NS)) != numbers.n
                or _number(key_value.find("ds:Exponent", NS)) != numbers.e):
            raise InvalidSignature("the RSAKeyValue in KeyInfo does not match the certificate's public key")
    serial = signature.findtext(
        "ds:Object/etsi:QualifyingProperties/etsi:SignedProperties/etsi:SignedSignatureProperties/"
        "etsi:SigningCertificate/etsi:Cert/etsi:IssuerSerial/ds:X509SerialNumber", namespaces=NS)
    if serial is not None and serial.strip() != str(certificate.serial_number):
        raise InvalidSignature("the SigningCertificate serial number does not match the certificate")


def verify(xml: bytes) -> None:
    """Returns when `xml` carries a valid SRI XAdES-BES signature; raises InvalidSignature otherwise."""
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise InvalidSignature(f"the document is not well-formed XML: {exc}") from None
    signatures = root.xpath("//ds:Signature", namespaces=NS)
    if not signatures:
        raise InvalidSignature("the document is not signed")
    if len(signatures) > 1:
        raise InvalidSignature(f"the document has {len(signatures)} signatures; expected one")
    signature = signatures[0]
    if signature.getparent() is not root:
        raise InvalidSignature("the signature is not a child of the root element")
    _check_references(root, signature)
    certificate = _certificate(signature)
    try:
        XAdESVerifier().verify(xml, x509_cert=certificate, expect_config=_CONFIG)
    except (SignXMLException, etree.LxmlError, ValueError) as exc:
        raise InvalidSignature(str(exc).strip().rstrip(":") or type(exc).__name__) from None
    _check_certificate_fields(signature, certificate)
