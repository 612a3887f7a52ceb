"""CFDIs built and sealed outside Sello, as another system would send them to POST
/v1/documents/stamp: made with satcfdi's own builders (not Sello's cfdi.build) and sealed by satcfdi
with a CSD (by default one of local.certs). For the tests and the README's walk-through:

    python -m local.sealed_cfdi --cer csd.cer --key csd.key --password clave-csd --folio 9001 > cfdi.xml

writes a one-line invoice of the sample issuer (EKU9003173C9, LugarExpedicion 42501) to the sample
customer, dated a minute ago, sealed with that CSD."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_der_private_key

from local import certs

ISSUER_RFC, ISSUER_NAME = certs.DEMO_RFC, certs.DEMO_RFC_NAME  # the sample Mexican issuer's
CUSTOMER = {"rfc": "XIA190128J61", "nombre": "XENON INDUSTRIAL ARTICLES", "domicilio_fiscal_receptor": "76343",
            "regimen_fiscal_receptor": "601", "uso_cfdi": "G03"}
PASSWORD = "clave-externa"
PACHUCA = ZoneInfo("America/Mexico_City")  # LugarExpedicion 42501


def csd(rfc: str = ISSUER_RFC, name: str = ISSUER_NAME, **options):
    """(private key, certificate) of a CSD made by local.certs (make_csd's options)."""
    cer, key = certs.make_csd(rfc=rfc, name=name, password=PASSWORD, **options)
    return load_der_private_key(key, PASSWORD.encode()), x509.load_der_x509_certificate(cer)


def fecha(ago: timedelta = timedelta(minutes=1), now: datetime | None = None) -> datetime:
    """A Fecha `ago` before now, as written at LugarExpedicion 42501."""
    return ((now or datetime.now(UTC)) - ago).astimezone(PACHUCA).replace(tzinfo=None, microsecond=0)


def comprobante(*, serie: str = "EXT", folio: str = "1001", tipo: str = "I", when: datetime | None = None,
                emisor_rfc: str = ISSUER_RFC, emisor_nombre: str = ISSUER_NAME, price: str = "1000.00"):
    """An unsealed CFDI 4.0 (satcfdi's Comprobante) of one line with IVA 16 %."""
    from satcfdi.create.cfd import cfdi40

    concepto = cfdi40.Concepto(
        clave_prod_serv="43232408", cantidad=Decimal(1), clave_unidad="E48", descripcion="Licencia de software",
        valor_unitario=Decimal(price), unidad="Servicio", objeto_imp="02",
        impuestos=cfdi40.Impuestos(traslados=[cfdi40.Traslado(impuesto="002", tipo_factor="Tasa",
                                                              tasa_o_cuota=Decimal("0.160000"))]))
    return cfdi40.Comprobante(
        emisor=cfdi40.Emisor(rfc=emisor_rfc, nombre=emisor_nombre, regimen_fiscal="601"),
        lugar_expedicion="42501", receptor=cfdi40.Receptor(**CUSTOMER), conceptos=[concepto], moneda="MXN",
        tipo_de_comprobante=tipo, exportacion="01", serie=serie, folio=folio, forma_pago="03", metodo_pago="PUE",
        fecha=when or fecha())


def seal(document, key, certificate) -> bytes:
    """The Comprobante sealed by satcfdi (NoCertificado, Certificado, Sello) as UTF-8 XML bytes."""
    from OpenSSL import crypto
    from satcfdi.models import Signer

    document.sign(Signer(crypto.X509.from_cryptography(certificate), key))
    return document.xml_bytes()


def sealed(**options) -> bytes:
    """A sealed CFDI of the sample issuer with its default CSD (comprobante's options)."""
    return seal(comprobante(**options), *csd())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m local.sealed_cfdi", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cer", type=argparse.FileType("rb"), required=True, help="the CSD's certificate (.cer)")
    parser.add_argument("--key", type=argparse.FileType("rb"), required=True, help="its private key (.key)")
    parser.add_argument("--password", required=True)
    parser.add_argument("--serie", default="EXT")
    parser.add_argument("--folio", default="1001")
    parser.add_argument("--type", choices=("I", "E"), default="I", help="TipoDeComprobante")
    args = parser.parse_args(argv)
    key = load_der_private_key(args.key.read(), args.password.encode())
    certificate = x509.load_der_x509_certificate(args.cer.read())
    sys.stdout.buffer.write(seal(comprobante(serie=args.serie, folio=args.folio, tipo=args.type), key, certificate))


if __name__ == "__main__":
    main()
