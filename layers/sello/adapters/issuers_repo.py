"""Issuers and their certificates in the single table.

| item            | pk           | sk                        | gsi1pk (active certificates only) |
|-----------------|--------------|---------------------------|-----------------------------------|
| issuer          | ACCOUNT#<id> | ISSUER#<issuer id>        |                                   |
| tax id (unique) | ACCOUNT#<id> | TAXID#<country>#<tax id>  |                                   |
| certificate     | ACCOUNT#<id> | CERT#<issuer id>#<serial> | CERTEXP#<valid_to date, UTC>      |

The issuer item holds the fields of its country's issuer body (a country's own ones as JSON values:
numbers stored as DynamoDB numbers and read back as JSON numbers) and a summary of its active
certificate; the certificate items keep the public metadata, and the active one also the KMS-sealed
private key. Replacing a certificate switches the issuer's summary, marks the old item `replaced`
and drops its key and index entry, in one transaction. The expiry index lets the daily job query
the certificates ending on a given date."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sello.adapters.dynamo import PK, SK, ConditionFailed, DynamoStore, account_pk, parse_dt
from sello.table import TABLE
from sello.ids import iso
from sello.models.certificates import Certificate, CertificateSummary
from sello.models.issuers import Issuer

GSI_PK, GSI_SK = TABLE.gsi_partition_key, TABLE.gsi_sort_key



def issuer_sk(issuer_id: str) -> str:
    return f"ISSUER#{issuer_id}"


def tax_id_sk(country: str, tax_id: str) -> str:
    return f"TAXID#{country}#{tax_id}"


def certificate_sk(issuer_id: str, serial: str = "") -> str:
    return f"CERT#{issuer_id}#{serial}"


def expiry_pk(day: date) -> str:
    return f"CERTEXP#{day.isoformat()}"



def _summary_item(summary: CertificateSummary) -> dict:
    item = {"serial": summary.serial, "subject": summary.subject, "valid_from": iso(summary.valid_from),
            "valid_to": iso(summary.valid_to), "trusted": summary.trusted}
    if summary.signature_size is not None:
        item["signature_size"] = summary.signature_size
    if summary.number is not None:
        item["number"] = summary.number
    return item


def _stored(value: Any) -> Any:
    """A JSON value as DynamoDB stores it: numbers as Decimal (it takes no float)."""
    return json.loads(json.dumps(value), parse_float=Decimal)


def _json(value: Any) -> Any:
    """A stored value as JSON has it: DynamoDB reads every number back as a Decimal."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


def _issuer_item(issuer: Issuer) -> dict:
    item = issuer.model_dump(mode="json", exclude_none=True, exclude={"certificate"})
    item.update({name: _stored(item[name]) for name in issuer.country_fields if name in item})
    item.update({PK: account_pk(issuer.account_id), SK: issuer_sk(issuer.id), "type": "issuer",
                 "created_at": iso(issuer.created_at), "updated_at": iso(issuer.updated_at)})
    if issuer.certificate:
        item["certificate"] = _summary_item(issuer.certificate)
    return item


def _issuer(item: dict) -> Issuer:
    data = {k: v if k in Issuer.model_fields else _json(v) for k, v in item.items()
            if k not in (PK, SK, "type")}
    return Issuer.model_validate(data)


def summary_of(certificate: Certificate) -> CertificateSummary:
    return CertificateSummary(serial=certificate.serial, subject=certificate.subject,
                              valid_from=certificate.valid_from, valid_to=certificate.valid_to,
                              trusted=certificate.trusted, signature_size=certificate.signature_size,
                              number=certificate.number)


def _certificate_item(c: Certificate) -> dict:
    item = {PK: account_pk(c.account_id), SK: certificate_sk(c.issuer_id, c.serial), "type": "certificate",
            "account_id": c.account_id, "issuer_id": c.issuer_id, "serial": c.serial, "subject": c.subject,
            "issuer": c.issuer, "valid_from": iso(c.valid_from), "valid_to": iso(c.valid_to),
            "fingerprint_sha256": c.fingerprint_sha256, "tax_ids": list(c.tax_ids),
            "certificate_der": c.certificate_der, "status": c.status, "uploaded_at": iso(c.uploaded_at),
            "trusted": c.trusted}
    if c.notification_email:
        item["notification_email"] = c.notification_email
    if c.private_key is not None:
        item["private_key"] = c.private_key.to_item()
    if c.replaced_at:
        item["replaced_at"] = iso(c.replaced_at)
    if c.warnings_sent:
        item["warnings_sent"] = set(c.warnings_sent)
    if c.signature_size is not None:
        item["signature_size"] = c.signature_size
    if c.number is not None:
        item["number"] = c.number
    if c.status == "active":
        item[GSI_PK] = expiry_pk(c.valid_to.date())
        item[GSI_SK] = f"{c.account_id}#{c.issuer_id}#{c.serial}"
    return item


def _certificate(item: dict) -> Certificate:
    from sello.adapters.kms import Sealed  # with the first certificate read: a lookup of issuers needs none

    sealed = item.get("private_key")
    return Certificate(
        account_id=item["account_id"], issuer_id=item["issuer_id"], serial=item["serial"],
        subject=item["subject"], issuer=item["issuer"], valid_from=parse_dt(item["valid_from"]),
        valid_to=parse_dt(item["valid_to"]),
        fingerprint_sha256=item["fingerprint_sha256"], tax_ids=list(item.get("tax_ids", [])),
        certificate_der=bytes(item["certificate_der"]), status=item["status"],
        uploaded_at=parse_dt(item["uploaded_at"]),
        notification_email=item.get("notification_email"),
        private_key=Sealed.from_item(sealed) if sealed else None, replaced_at=parse_dt(item.get("replaced_at")),
        warnings_sent={int(d) for d in item.get("warnings_sent", ())}, trusted=bool(item.get("trusted", False)),
        signature_size=int(item["signature_size"]) if "signature_size" in item else None,
        number=item.get("number"),
    )


class DynamoIssuersRepo:
    def __init__(self, store: DynamoStore):
        self.store = store

    # Issuers -------------------------------------------------------------------------------------

    def create_issuer(self, issuer: Issuer) -> bool:
        """The issuer and its unique tax-id item, all or nothing. False when the account already has
        an issuer with this country and tax id."""
        guard = {PK: account_pk(issuer.account_id), SK: tax_id_sk(issuer.country, issuer.tax_id),
                 "type": "issuer_tax_id", "issuer_id": issuer.id}
        try:
            self.store.transact(unique_puts=[_issuer_item(issuer), guard])
        except ConditionFailed:
            return False
        return True

    def get_issuer(self, account_id: str, issuer_id: str) -> Issuer | None:
        item = self.store.get(account_pk(account_id), issuer_sk(issuer_id))
        return _issuer(item) if item else None

    def list_issuers(self, account_id: str, limit: int,
                     cursor: str | None) -> tuple[list[Issuer], str | None]:
        items, next_cursor = self.store.query(account_pk(account_id), issuer_sk(""), limit=limit,
                                              cursor=cursor)
        return [_issuer(i) for i in items], next_cursor

    # Certificates --------------------------------------------------------------------------------

    def list_certificates(self, account_id: str, issuer_id: str) -> list[Certificate]:
        items = self.store.query_all(account_pk(account_id), certificate_sk(issuer_id))
        return [_certificate(i) for i in items]

    def get_certificate(self, account_id: str, issuer_id: str, serial: str) -> Certificate | None:
        item = self.store.get(account_pk(account_id), certificate_sk(issuer_id, serial))
        return _certificate(item) if item else None

    def activate_certificate(self, issuer: Issuer, new: Certificate, now: datetime) -> bool:
        """Stores `new` as the issuer's active certificate and retires the one the issuer had, in one
        transaction. False when the issuer's certificate changed since `issuer` was read."""
        pk = account_pk(issuer.account_id)
        previous = issuer.certificate.serial if issuer.certificate else None
        names = {"#certificate": "certificate", "#updated_at": "updated_at"}
        values = {":summary": _summary_item(summary_of(new)), ":now": iso(now)}
        if previous is None:
            names["#pk"] = PK
            condition = "attribute_exists(#pk) AND attribute_not_exists(#certificate)"
        else:
            names["#serial"] = "serial"
            values[":previous"] = previous
            condition = "#certificate.#serial = :previous"
        issuer_update = {
            "Key": {PK: pk, SK: issuer_sk(issuer.id)},
            "UpdateExpression": "SET #certificate = :summary, #updated_at = :now",
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
        }
        updates = [issuer_update]
        if previous is not None and previous != new.serial:
            updates.append({
                "Key": {PK: pk, SK: certificate_sk(issuer.id, previous)},
                "UpdateExpression": "SET #status = :replaced, #replaced_at = :now "
                                    "REMOVE #private_key, #gsi_pk, #gsi_sk",
                "ConditionExpression": "#status = :active",
                "ExpressionAttributeNames": {"#status": "status", "#replaced_at": "replaced_at",
                                             "#private_key": "private_key", "#gsi_pk": GSI_PK,
                                             "#gsi_sk": GSI_SK},
                "ExpressionAttributeValues": {":replaced": "replaced", ":active": "active", ":now": iso(now)},
            })
        try:
            self.store.transact(puts=[_certificate_item(new)], updates=updates)
        except ConditionFailed:
            return False
        return True

    def certificates_expiring_on(self, day: date) -> list[Certificate]:
        """Active certificates whose validity ends on `day` (UTC)."""
        return [_certificate(i) for i in self.store.query_all(expiry_pk(day), index=True)]

    def claim_warning(self, certificate: Certificate, days: int) -> bool:
        """Records that the `days` warning goes out; False when it already went (or the certificate
        is no longer active)."""
        try:
            self.store.update(account_pk(certificate.account_id),
                              certificate_sk(certificate.issuer_id, certificate.serial),
                              add={"warnings_sent": {days}},
                              condition="#status = :active AND NOT contains(#warnings_sent, :days)",
                              values={":active": "active", ":days": days})
        except ConditionFailed:
            return False
        return True

    def release_warning(self, certificate: Certificate, days: int) -> None:
        """Undoes claim_warning when the email could not be sent, so the next run tries again."""
        self.store.update(account_pk(certificate.account_id),
                          certificate_sk(certificate.issuer_id, certificate.serial),
                          delete={"warnings_sent": {days}})
