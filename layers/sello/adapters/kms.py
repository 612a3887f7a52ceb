"""Envelope encryption with KMS: every secret gets its own AES-256 data key from GenerateDataKey,
is encrypted locally with AES-256-GCM, and only the KMS-encrypted data key, the nonce and the
ciphertext are kept. The encryption context is bound twice: by KMS to the data key, and as the
GCM associated data to the ciphertext. Plaintext keys live in bytearrays that are zeroed after use
(Python may still hold copies it made internally; this is as far as the language allows)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from sello.adapters import aws

ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12


@dataclass(frozen=True)
class Sealed:
    encrypted_data_key: bytes
    nonce: bytes
    ciphertext: bytes
    kms_key_id: str
    algorithm: str = ALGORITHM

    def to_item(self) -> dict:
        return {"encrypted_data_key": self.encrypted_data_key, "nonce": self.nonce,
                "ciphertext": self.ciphertext, "kms_key_id": self.kms_key_id, "algorithm": self.algorithm}

    @classmethod
    def from_item(cls, item: Mapping) -> Sealed:
        return cls(encrypted_data_key=bytes(item["encrypted_data_key"]), nonce=bytes(item["nonce"]),
                   ciphertext=bytes(item["ciphertext"]), kms_key_id=item["kms_key_id"],
                   algorithm=item.get("algorithm", ALGORITHM))


def wipe(buffer: bytearray) -> None:
    buffer[:] = bytes(len(buffer))


def _associated_data(context: Mapping[str, str]) -> bytes:
    return json.dumps(dict(context), sort_keys=True, separators=(",", ":")).encode()


class KmsKeystore:
    def __init__(self, key_id: str):
        self.key_id = key_id

    def seal(self, plaintext: bytes | bytearray, context: Mapping[str, str]) -> Sealed:
        response = aws.client("kms").generate_data_key(KeyId=self.key_id, KeySpec="AES_256",
                                                       EncryptionContext=dict(context))
        data_key = bytearray(response.pop("Plaintext"))
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only where keys are sealed

            nonce = os.urandom(NONCE_BYTES)
            ciphertext = AESGCM(data_key).encrypt(nonce, plaintext, _associated_data(context))
        finally:
            wipe(data_key)
        return Sealed(encrypted_data_key=response["CiphertextBlob"], nonce=nonce, ciphertext=ciphertext,
                      kms_key_id=response["KeyId"])

    def open(self, sealed: Sealed, context: Mapping[str, str]) -> bytearray:
        """The plaintext, in a bytearray the caller wipes when done with it."""
        if sealed.algorithm != ALGORITHM:
            raise ValueError(f"Unknown envelope algorithm {sealed.algorithm!r}")
        response = aws.client("kms").decrypt(CiphertextBlob=sealed.encrypted_data_key,
                                             KeyId=sealed.kms_key_id, EncryptionContext=dict(context))
        data_key = bytearray(response.pop("Plaintext"))
        try:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # only where keys are opened

            aesgcm = AESGCM(data_key)
            return bytearray(aesgcm.decrypt(sealed.nonce, sealed.ciphertext, _associated_data(context)))
        finally:
            wipe(data_key)
