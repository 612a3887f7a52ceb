"""Signatures against independently produced material: the signed SRI samples of
bryancalisto/ec-sri-invoice-signer (self-signed test certificate, RSA-SHA1, mixed id/Id) must
verify with local.sri.signature, and fail once a character of the document changes; the same
samples' unsigned originals, signed by sello.countries.ec.xades, must verify and stay valid
against SRI's schemas."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from local.certs import make_certificate, rsa_key
from local.sri.signature import InvalidSignature, verify
from sello.countries.ec import xades, xsd
from tests.conftest import DATA, needs_data
from tests.ec_fixtures import schemas  # noqa: F401 (fixture)

SAMPLES = DATA / "ec" / "samples"
KINDS = ["invoice", "credit-note", "debit-note", "delivery-guide", "withholding-certificate"]


def sample(kind: str, which: str) -> bytes:
    return (SAMPLES / f"bryancalisto_{kind}_{which}.xml").read_bytes()


def needs_sample(kind: str, which: str):
    return needs_data("ec", "samples", f"bryancalisto_{kind}_{which}.xml")


def schema_errors(xml: bytes) -> list[tuple[str, str]]:
    root = etree.fromstring(xml)
    return xsd.validate(xml, root.tag, root.get("version"))


@pytest.mark.parametrize("kind", [pytest.param(k, marks=needs_sample(k, "signed")) for k in KINDS])
def test_signed_sample_verifies(kind):
    verify(sample(kind, "signed"))


@pytest.mark.parametrize("kind", [pytest.param(k, marks=needs_sample(k, "signed")) for k in KINDS])
def test_signed_sample_with_one_character_changed_fails(kind):
    data = sample(kind, "signed")
    # The last digit of the secuencial, a field every comprobante has.
    changed = re.sub(rb"(<secuencial>\d*)(\d)(</secuencial>)",
                     lambda m: m[1] + str((int(m[2]) + 1) % 10).encode() + m[3], data, count=1)
    assert len(changed) == len(data) and changed != data
    with pytest.raises(InvalidSignature) as err:
        verify(changed)
    assert "#comprobante" in err.value.reason


@pytest.mark.parametrize("algorithm", sorted(xades.ALGORITHMS))
@pytest.mark.parametrize("kind", [
    pytest.param(k, marks=[needs_sample(k, "original"), needs_data("ec", "xsd")]) for k in KINDS])
def test_original_signed_here_verifies_and_keeps_its_schema_validity(kind, algorithm, schemas):
    original = sample(kind, "original")
    key = rsa_key(1)
    signed = xades.sign(original, key, make_certificate(key), algorithm=algorithm)
    verify(signed)
    errors = schema_errors(signed)
    if kind == "delivery-guide":
        # This original has a 52-digit claveAcceso, which the schema's pattern refuses: signing must
        # add no error of its own, so the signed guide fails the schema exactly as the original does.
        assert errors == schema_errors(original)
        assert errors and all("claveAcceso" in path for path, _ in errors)
    else:
        assert errors == []
