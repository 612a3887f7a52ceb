"""The KMS envelope that protects certificate private keys (KMS emulated by moto)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from botocore.exceptions import ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_der_private_key,
)

from local import certs
from sello.adapters import aws as aws_clients
from sello.adapters.kms import ALGORITHM, KmsKeystore, Sealed, wipe
from sello.services.certificates import key_context

CONTEXT = key_context("acct_a", "iss_a")


@pytest.fixture
def keystore(aws):
    return KmsKeystore(aws["SELLO_KEY_ID"])


def pkcs8() -> bytes:
    return certs.rsa_key(1).private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())


def test_round_trip_gives_back_the_key(keystore):
    sealed = keystore.seal(bytearray(pkcs8()), CONTEXT)
    opened = keystore.open(Sealed.from_item(sealed.to_item()), CONTEXT)
    key = load_der_private_key(opened, None, unsafe_skip_rsa_key_validation=True)
    assert key.private_numbers() == certs.rsa_key(1).private_numbers()
    assert sealed.algorithm == ALGORITHM and len(sealed.nonce) == 12


def test_only_the_sealed_parts_are_kept_and_they_reveal_nothing(keystore):
    plaintext = pkcs8()
    item = keystore.seal(plaintext, CONTEXT).to_item()
    assert set(item) == {"encrypted_data_key", "nonce", "ciphertext", "kms_key_id", "algorithm"}
    assert plaintext not in item["ciphertext"] and plaintext[100:132] not in item["ciphertext"]
    # The data key is wrapped by KMS: decrypting it needs KMS and the same context.
    data_key = aws_clients.client("kms").decrypt(CiphertextBlob=item["encrypted_data_key"],
                                                 EncryptionContext=CONTEXT)["Plaintext"]
    assert len(data_key) == 32 and data_key not in item["ciphertext"]


def test_every_seal_uses_a_new_data_key_and_nonce(keystore):
    first, second = keystore.seal(b"same secret", CONTEXT), keystore.seal(b"same secret", CONTEXT)
    assert first.encrypted_data_key != second.encrypted_data_key
    assert first.nonce != second.nonce and first.ciphertext != second.ciphertext


def test_another_issuers_context_does_not_open_it(keystore):
    sealed = keystore.seal(pkcs8(), CONTEXT)
    with pytest.raises((ClientError, InvalidTag)):
        keystore.open(sealed, key_context("acct_a", "iss_b"))
    with pytest.raises((ClientError, InvalidTag)):
        keystore.open(sealed, key_context("acct_b", "iss_a"))


def test_a_tampered_ciphertext_does_not_open(keystore):
    sealed = keystore.seal(pkcs8(), CONTEXT)
    flipped = bytes([sealed.ciphertext[0] ^ 1]) + sealed.ciphertext[1:]
    with pytest.raises(InvalidTag):
        keystore.open(replace(sealed, ciphertext=flipped), CONTEXT)


def test_wipe_zeroes_a_buffer():
    buffer = bytearray(b"secret key material")
    wipe(buffer)
    assert buffer == bytearray(len(b"secret key material"))
