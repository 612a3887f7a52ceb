"""XAdES-BES enveloped signature of an SRI comprobante (ficha técnica §6, Anexo 14).

The signature is written here with lxml and cryptography from a fixed template, not with signxml.
signxml's XAdES signer does not make SRI's shape on its own: it writes XAdES 1.4.1's
SigningCertificateV2 instead of the SigningCertificate SRI expects, refuses SHA-1, and writes
SigningTime in UTC with no way to set it. Overriding its internal hooks gets close, but the result
still differs from the ficha (KeyValue before X509Data, certificate wrapped at 64 columns, an extra
C14N transform, no Ids on SignedInfo or Object) and takes about twice as long (≈1.3 ms against
≈0.6 ms for a 10-line factura on one core; the RSA-2048 operation alone is ≈0.25 ms). signxml is
also only a development dependency, not part of the Lambda layer. The tests check every signature
made here with signxml's verifier, a library that shares no code with this module.

Shape (the references in the ficha's order: SignedProperties, KeyInfo, comprobante):

    <factura id="comprobante" ...> ...
      <ds:Signature xmlns:ds=... xmlns:etsi=... Id="Signature…">
        <ds:SignedInfo> inclusive C14N 1.0, rsa-sha1 (or rsa-sha256), three References
        <ds:SignatureValue>
        <ds:KeyInfo Id="Certificate…"> X509Certificate and RSAKeyValue
        <ds:Object> etsi:QualifyingProperties / SignedProperties: SigningTime (−05:00),
                    SigningCertificate (digest, issuer, serial), DataObjectFormat of the comprobante

Every digest is taken over the element where it stands in the final document, so the namespaces in
scope (ds and etsi, declared on ds:Signature) are the ones a verifier sees. Inclusive C14N would also
pull namespace declarations and xml:* attributes on the root into the signed parts, and
implementations disagree about them (libxml2 leaves inherited xml:* attributes out, C14N 1.0 and Java
validators put them in). So a root that carries any of them is refused, and so is a DOCTYPE. The
document is serialized once, after signing; the returned bytes must be stored and sent as they are.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from lxml import etree

DS = "http://www.w3.org/2000/09/xmldsig#"
ETSI = "http://uri.etsi.org/01903/v1.3.2#"
XML_NS = "http://www.w3.org/XML/1998/namespace"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
SIGNED_PROPERTIES_TYPE = "http://uri.etsi.org/01903#SignedProperties"
ROOT_ID = "comprobante"
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>'
ECUADOR = timezone(timedelta(hours=-5))

# algorithm name -> (SignatureMethod URI, DigestMethod URI, hash)
ALGORITHMS = {
    "rsa-sha1": ("http://www.w3.org/2000/09/xmldsig#rsa-sha1",
                 "http://www.w3.org/2000/09/xmldsig#sha1", hashes.SHA1),
    "rsa-sha256": ("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
                   "http://www.w3.org/2001/04/xmlenc#sha256", hashes.SHA256),
}

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
_NSMAP = {"ds": DS, "etsi": ETSI}


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _integer(value: int) -> str:
    """An XML-DSig CryptoBinary: big-endian, without leading zero bytes."""
    return _b64(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _digest(data: bytes, algorithm: type[hashes.HashAlgorithm]) -> str:
    h = hashes.Hash(algorithm())
    h.update(data)
    return _b64(h.finalize())


def _c14n(element: etree._Element) -> bytes:
    return etree.tostring(element, method="c14n", exclusive=False, with_comments=False)


def _parse(xml: bytes) -> etree._Element:
    try:
        root = etree.fromstring(xml, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"the document is not well-formed XML: {exc}") from None
    if root.getroottree().docinfo.doctype:
        raise ValueError("the document must not have a DOCTYPE")
    if root.nsmap:
        raise ValueError("the root element must not declare namespaces (xmlns); inclusive C14N would carry "
                         "them into the signature")
    if any(name.startswith(f"{{{XML_NS}}}") for name in root.attrib):
        raise ValueError("the root element must not have xml:* attributes; inclusive C14N would carry them "
                         "into the signature")
    if root.get("id") != ROOT_ID:
        raise ValueError(f'the root element must have id="{ROOT_ID}"')
    if root.find(f"{{{DS}}}Signature") is not None:
        raise ValueError("the document is already signed")
    return root


def _sub(parent: etree._Element, tag: str, text: str | None = None, **attributes: str) -> etree._Element:
    element = etree.SubElement(parent, tag, attributes)
    element.text = text
    return element


def _reference(signed_info, uri: str, digest_method: str, *, enveloped: bool = False,
               **attributes: str) -> etree._Element:
    reference = _sub(signed_info, f"{{{DS}}}Reference", **attributes, URI=uri)
    if enveloped:
        transforms = _sub(reference, f"{{{DS}}}Transforms")
        _sub(transforms, f"{{{DS}}}Transform", Algorithm=ENVELOPED)
    _sub(reference, f"{{{DS}}}DigestMethod", Algorithm=digest_method)
    return _sub(reference, f"{{{DS}}}DigestValue")


def _signing_time(signing_time: datetime | None) -> str:
    """SRI compares SigningTime with its own clock in Ecuador's time (UTC−05:00). A naive value is
    taken as UTC."""
    when = signing_time or datetime.now(UTC)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone(ECUADOR).replace(microsecond=0).isoformat()


def sign(xml: bytes, key: rsa.RSAPrivateKey, cert: x509.Certificate, *, algorithm: str = "rsa-sha1",
         signing_time: datetime | None = None) -> bytes:
    """The comprobante `xml` with an enveloped XAdES-BES signature appended to its root, as UTF-8
    bytes with an XML declaration. These exact bytes are what must be stored and sent.

    Raises ValueError for an unknown algorithm, a key that does not belong to `cert`, or a document
    SRI's signature cannot cover as is (see the module docstring)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown signature algorithm {algorithm!r}; use one of {', '.join(ALGORITHMS)}")
    public = cert.public_key()
    if (not isinstance(public, rsa.RSAPublicKey)
            or public.public_numbers() != key.public_key().public_numbers()):
        raise ValueError("the private key does not belong to the certificate")
    root = _parse(xml)
    n = secrets.randbelow(9_000_000) + 1_000_000
    _append_signature(root, cert, algorithm, _signing_time(signing_time), n,
                      lambda data, hash_algorithm: key.sign(data, padding.PKCS1v15(), hash_algorithm()))
    return DECLARATION + etree.tostring(root, encoding="UTF-8", xml_declaration=False)


# Any instant serves: SigningTime always has the same length (a 4-digit year, seconds, −05:00).
SIZE_CHECK_TIME = datetime(2000, 1, 1, tzinfo=UTC)


def signature_size(cert: x509.Certificate) -> int:
    """An upper bound, in bytes, of what signing a comprobante with `cert` adds to it: the
    ds:Signature element as `sign` writes it, with the longer algorithm's URIs and digests, and with
    the certificate, its key, issuer name and serial as they are (the signature value is as long as
    the key's modulus). `sign`'s output is at most len(unsigned XML) + this many bytes (its XML
    declaration is one byte shorter than the one xml.build writes)."""
    public = cert.public_key()
    if not isinstance(public, rsa.RSAPublicKey):
        raise ValueError("the certificate's key is not RSA")
    modulus_bytes = (public.key_size + 7) // 8
    sizes = []
    for algorithm in ALGORITHMS:
        root = etree.Element("comprobante", {"id": ROOT_ID})
        signature = _append_signature(root, cert, algorithm, _signing_time(SIZE_CHECK_TIME), 9_999_999,
                                      lambda data, hash_algorithm: b"\xff" * modulus_bytes)
        sizes.append(len(etree.tostring(signature, encoding="UTF-8")))
    return max(sizes)



def _append_signature(root: etree._Element, cert: x509.Certificate, algorithm: str, signing_time: str, n: int,
                      sign_bytes: Callable[[bytes, type[hashes.HashAlgorithm]], bytes]) -> etree._Element:
    """Appends the ds:Signature to `root` and returns it; `sign_bytes(data, hash algorithm)` is the
    RSA PKCS#1 v1.5 signature of the canonical SignedInfo."""
    signature_method, digest_method, hash_algorithm = ALGORITHMS[algorithm]
    public = cert.public_key()

    # The comprobante without the signature is exactly what the enveloped-signature transform leaves.
    document_digest = _digest(_c14n(root), hash_algorithm)

    signature_id, certificate_id = f"Signature{n}", f"Certificate{n}"
    properties_id, document_ref_id = f"{signature_id}-SignedProperties{n}", f"Reference-ID-{n}"

    signature = etree.SubElement(root, f"{{{DS}}}Signature", {"Id": signature_id}, nsmap=_NSMAP)
    signed_info = _sub(signature, f"{{{DS}}}SignedInfo", Id=f"{signature_id}-SignedInfo{n}")
    _sub(signed_info, f"{{{DS}}}CanonicalizationMethod", Algorithm=C14N)
    _sub(signed_info, f"{{{DS}}}SignatureMethod", Algorithm=signature_method)
    properties_digest = _reference(signed_info, f"#{properties_id}", digest_method,
                                   Id=f"SignedPropertiesID{n}", Type=SIGNED_PROPERTIES_TYPE)
    key_info_digest = _reference(signed_info, f"#{certificate_id}", digest_method)
    _reference(signed_info, f"#{ROOT_ID}", digest_method, enveloped=True,
               Id=document_ref_id).text = document_digest
    signature_value = _sub(signature, f"{{{DS}}}SignatureValue", Id=f"SignatureValue{n}")

    cert_der = cert.public_bytes(Encoding.DER)
    numbers = public.public_numbers()
    key_info = _sub(signature, f"{{{DS}}}KeyInfo", Id=certificate_id)
    _sub(_sub(key_info, f"{{{DS}}}X509Data"), f"{{{DS}}}X509Certificate", _b64(cert_der))
    rsa_key_value = _sub(_sub(key_info, f"{{{DS}}}KeyValue"), f"{{{DS}}}RSAKeyValue")
    _sub(rsa_key_value, f"{{{DS}}}Modulus", _integer(numbers.n))
    _sub(rsa_key_value, f"{{{DS}}}Exponent", _integer(numbers.e))

    ds_object = _sub(signature, f"{{{DS}}}Object", Id=f"{signature_id}-Object{n}")
    qualifying = _sub(ds_object, f"{{{ETSI}}}QualifyingProperties", Target=f"#{signature_id}")
    properties = _sub(qualifying, f"{{{ETSI}}}SignedProperties", Id=properties_id)
    signature_properties = _sub(properties, f"{{{ETSI}}}SignedSignatureProperties")
    _sub(signature_properties, f"{{{ETSI}}}SigningTime", signing_time)
    signed_cert = _sub(_sub(signature_properties, f"{{{ETSI}}}SigningCertificate"), f"{{{ETSI}}}Cert")
    cert_digest = _sub(signed_cert, f"{{{ETSI}}}CertDigest")
    _sub(cert_digest, f"{{{DS}}}DigestMethod", Algorithm=digest_method)
    _sub(cert_digest, f"{{{DS}}}DigestValue", _digest(cert_der, hash_algorithm))
    issuer_serial = _sub(signed_cert, f"{{{ETSI}}}IssuerSerial")
    _sub(issuer_serial, f"{{{DS}}}X509IssuerName", cert.issuer.rfc4514_string())
    _sub(issuer_serial, f"{{{DS}}}X509SerialNumber", str(cert.serial_number))
    data_objects = _sub(properties, f"{{{ETSI}}}SignedDataObjectProperties")
    data_format = _sub(data_objects, f"{{{ETSI}}}DataObjectFormat", ObjectReference=f"#{document_ref_id}")
    _sub(data_format, f"{{{ETSI}}}Description", "contenido comprobante")
    _sub(data_format, f"{{{ETSI}}}MimeType", "text/xml")

    # Both digests are taken in place, with the signature already in the document.
    properties_digest.text = _digest(_c14n(properties), hash_algorithm)
    key_info_digest.text = _digest(_c14n(key_info), hash_algorithm)
    signature_value.text = _b64(sign_bytes(_c14n(signed_info), hash_algorithm))
    return signature
