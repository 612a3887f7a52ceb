"""Development and test signing certificates: PKCS#12 files for a given RUC, password, validity
window and key usage, issued by a local test CA ("mini-CA", the default), by a chain of test CAs made
with make_ca (root → intermediate → certificate), or self-signed.

None of these CAs is a recognised certification authority, so their certificates sign test documents
only, unless the mini-CA (or another root made here) is added to settings.trusted_ca_path, as the
local stack does with the mini-CA (`--write-ca` writes its certificate as PEM). Keys, the mini-CA's
included, are generated anew in each process: a file made by another process chains to another
mini-CA.

The RUC is written the way Ecuadorian CAs write it (see sello.countries.ec.certificates):
- "security_data" (default): extensions 1.3.6.1.4.1.37746.3.11 (RUC) and .3.1 (cédula);
- "bce": Banco Central del Ecuador, extensions 1.3.6.1.4.1.37947.3.11 / .3.1;
- "uanataca": subjectAltName otherName 1.3.6.1.4.1.47286.102.3.11 / .3.1;
- "subject": the subject's serialNumber attribute.
For Mexico, make_csd writes the SAT pair a CSD comes as (.cer DER, .key PKCS#8 DER encrypted with the
password), written as SAT writes it: the RFC in x500UniqueIdentifier, the 20-digit certificate number
(NoCertificado) as the ASCII bytes of the serial, key usage for signatures only (as a CSD, not an
e.firma). Nothing here has any fiscal validity.

    python -m local.certs --ruc 1799999990001 --password demo --days 365 --out demo.p12
    python -m local.certs --rfc EKU9003173C9 --name "ESCUELA KEMPER URGATE" --out demo   # demo.cer, demo.key
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

DEMO_RUC = "1799999990001"
DEMO_PASSWORD = "sello-demo"
DEMO_RFC = "EKU9003173C9"
DEMO_RFC_NAME = "ESCUELA KEMPER URGATE"
# x500UniqueIdentifier, where SAT writes the holder's RFC (and, after " / ", its representative's).
UNIQUE_IDENTIFIER = x509.ObjectIdentifier("2.5.4.45")

# How each carrier names its fields: (OID arc, as extension or as subjectAltName otherName).
CARRIERS = {
    "security_data": ("1.3.6.1.4.1.37746.3", "extension"),
    "bce": ("1.3.6.1.4.1.37947.3", "extension"),
    "uanataca": ("1.3.6.1.4.1.47286.102.3", "other_name"),
    "subject": ("", "subject"),
}
KEY_USAGES = ("signing", "encipherment")


@cache
def rsa_key(slot: int = 1, bits: int = 2048) -> rsa.RSAPrivateKey:
    """A key per slot, generated once per process (tests reuse them; generating one costs ~0.1 s)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def _utf8(value: str) -> bytes:
    """DER UTF8String, the way CAs encode these field values."""
    data = value.encode()
    if len(data) < 0x80:
        return bytes([0x0C, len(data)]) + data
    size = (len(data).bit_length() + 7) // 8
    return bytes([0x0C, 0x80 | size]) + len(data).to_bytes(size, "big") + data


@dataclass(frozen=True)
class LocalCA:
    key: rsa.RSAPrivateKey
    certificate: x509.Certificate


def make_ca(common_name: str, *, key_slot: int, issuer: LocalCA | None = None, path_length: int | None = None,
            not_before: datetime = datetime(2020, 1, 1, tzinfo=UTC), days: int = 365 * 40,
            key_cert_sign: bool = True, ca: bool = True, serial: int | None = None) -> LocalCA:
    """A test certification authority: a root (self-signed) or, with `issuer`, an intermediate.
    `key_cert_sign` and `ca` false make a CA certificate that may not issue (to test refusals)."""
    key = rsa_key(key_slot)
    name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "EC"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sello Test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    certificate = (
        x509.CertificateBuilder().subject_name(name)
        .issuer_name(name if issuer is None else issuer.certificate.subject).public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     key_cert_sign=key_cert_sign, crl_sign=True, encipher_only=False,
                                     decipher_only=False), critical=True)
        .sign(key if issuer is None else issuer.key, hashes.SHA256())
    )
    return LocalCA(key=key, certificate=certificate)


@cache
def local_ca() -> LocalCA:
    return make_ca("Sello Test CA (no fiscal validity)", key_slot=0, path_length=0, serial=1)


def pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_certificate(key: rsa.RSAPrivateKey, *, ruc: str | None = DEMO_RUC, cedula: str | None = None,
                     common_name: str = "SELLO DEMO", organization: str | None = "COMERCIAL DEMO S.A.",
                     not_before: datetime | None = None, not_after: datetime | None = None, days: int = 365,
                     key_usage: str = "signing", carrier: str = "security_data", self_signed: bool = False,
                     serial: int | None = None, ca: LocalCA | None = None) -> x509.Certificate:
    """A certificate for `key`, issued by `ca` (default: the mini-CA) or self-signed. Validity
    defaults to [now − 1 day, not_before + days]."""
    if key_usage not in KEY_USAGES:
        raise ValueError(f"key_usage is one of {KEY_USAGES}")
    arc, how = CARRIERS[carrier]
    not_before = not_before or datetime.now(UTC) - timedelta(days=1)
    not_after = not_after or not_before + timedelta(days=days)
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "EC")]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    if how == "subject" and (ruc or cedula):
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, ruc or cedula))
    subject = x509.Name(attributes)
    ca = None if self_signed else ca or local_ca()
    signing = key_usage == "signing"
    builder = (
        x509.CertificateBuilder().subject_name(subject)
        .issuer_name(subject if ca is None else ca.certificate.subject)
        .public_key(key.public_key()).serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before).not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=signing, content_commitment=signing,
                                     key_encipherment=not signing, data_encipherment=not signing,
                                     key_agreement=False, key_cert_sign=False, crl_sign=False,
                                     encipher_only=False, decipher_only=False), critical=True)
    )
    fields = {f"{arc}.11": ruc, f"{arc}.1": cedula}
    if how == "extension":
        for oid, value in fields.items():
            if value:
                builder = builder.add_extension(
                    x509.UnrecognizedExtension(x509.ObjectIdentifier(oid), _utf8(value)), critical=False)
    elif how == "other_name":
        names = [x509.OtherName(x509.ObjectIdentifier(oid), _utf8(value))
                 for oid, value in fields.items() if value]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return builder.sign(key if ca is None else ca.key, hashes.SHA256())


def pack_p12(key: rsa.RSAPrivateKey | None, certificate: x509.Certificate | None, password: str,
             extra: Sequence[x509.Certificate] = (), *, legacy: bool = False, name: str = "sello") -> bytes:
    """A PKCS#12 file. `legacy` uses SHA-1/3DES (as older tools write); the default AES-256."""
    if legacy:
        encryption = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
                      .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1())
                      .build(password.encode()))
    elif password:
        encryption = serialization.BestAvailableEncryption(password.encode())
    else:
        encryption = serialization.NoEncryption()
    return pkcs12.serialize_key_and_certificates(name.encode(), key, certificate, list(extra) or None,
                                                 encryption)


def make_p12(*, ruc: str | None = DEMO_RUC, password: str = DEMO_PASSWORD, key_slot: int = 1,
             self_signed: bool = False, legacy: bool = False, ca: LocalCA | None = None,
             chain: Sequence[x509.Certificate] | None = None, **certificate_options) -> bytes:
    """A ready-to-upload PKCS#12 file: key, certificate and the CA certificates. The certificate is
    issued by `ca` (default: the mini-CA); `chain` is what goes with it (default: the issuing CA's
    certificate; pass the intermediates and root of a longer chain). `certificate_options` are those of
    make_certificate (cedula, days, not_before, not_after, key_usage, carrier, common_name,
    organization, serial)."""
    key = rsa_key(key_slot)
    certificate = make_certificate(key, ruc=ruc, self_signed=self_signed, ca=ca, **certificate_options)
    if chain is None:
        chain = () if self_signed else ((ca or local_ca()).certificate,)
    return pack_p12(key, certificate, password, chain, legacy=legacy)


def make_csd(*, rfc: str = DEMO_RFC, name: str = DEMO_RFC_NAME, password: str = DEMO_PASSWORD,
             key_slot: int = 1, days: int = 365, number: str = "30001000000500000001",
             not_before: datetime | None = None) -> tuple[bytes, bytes]:
    """A Mexican CSD as SAT delivers it, issued by the mini-CA: (.cer DER, .key PKCS#8 DER encrypted
    with `password`). `number` is its 20-digit NoCertificado."""
    key = rsa_key(key_slot)
    not_before = not_before or datetime.now(UTC) - timedelta(days=1)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name),
                         x509.NameAttribute(NameOID.COUNTRY_NAME, "MX"),
                         x509.NameAttribute(UNIQUE_IDENTIFIER, rfc),
                         x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Sucursal 1")])
    ca = local_ca()
    certificate = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
        .public_key(key.public_key()).serial_number(int.from_bytes(number.encode("ascii"), "big"))
        .not_valid_before(not_before).not_valid_after(not_before + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                     data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .sign(ca.key, hashes.SHA256())
    )
    encrypted = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(password.encode()))
    return certificate.public_bytes(serialization.Encoding.DER), encrypted


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.certs", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ruc", default=DEMO_RUC)
    parser.add_argument("--rfc", help="make a Mexican CSD for this RFC instead: OUT.cer and OUT.key")
    parser.add_argument("--name", default=DEMO_RFC_NAME, help="the CSD holder's name (with --rfc)")
    parser.add_argument("--cedula")
    parser.add_argument("--password", default=DEMO_PASSWORD)
    parser.add_argument("--days", type=int, default=365, help="validity from yesterday (default 365)")
    parser.add_argument("--key-usage", choices=KEY_USAGES, default="signing")
    parser.add_argument("--carrier", choices=sorted(CARRIERS), default="security_data")
    parser.add_argument("--self-signed", action="store_true")
    parser.add_argument("--legacy", action="store_true", help="SHA-1/3DES encryption instead of AES-256")
    parser.add_argument("--out", type=Path, default=Path("sello-demo.p12"))
    parser.add_argument("--write-ca", type=Path, metavar="PEM",
                        help="also write the mini-CA's certificate (PEM), for settings.trusted_ca_path")
    args = parser.parse_args(argv)
    if args.rfc:
        cer, key = make_csd(rfc=args.rfc, name=args.name, password=args.password, days=args.days)
        base = args.out.with_suffix("") if args.out.suffix == ".p12" else args.out
        base.with_suffix(".cer").write_bytes(cer)
        base.with_suffix(".key").write_bytes(key)
        print(f"{base}.cer, {base}.key: CSD for RFC {args.rfc}, valid {args.days} days, password {args.password!r}")
        return
    data = make_p12(ruc=args.ruc, cedula=args.cedula, password=args.password, days=args.days,
                    key_usage=args.key_usage, carrier=args.carrier, self_signed=args.self_signed,
                    legacy=args.legacy)
    args.out.write_bytes(data)
    print(f"{args.out}: PKCS#12 for RUC {args.ruc}, valid {args.days} days, password {args.password!r}")
    if args.write_ca:
        args.write_ca.write_bytes(pem(local_ca().certificate))
        print(f"{args.write_ca}: the mini-CA's certificate")


if __name__ == "__main__":
    main()
