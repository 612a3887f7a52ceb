"""Files in the S3 bucket: documents' (signed XML, authorized XML, PDF), one folder per account and
document, and issuers' (the logo), one folder per account and issuer."""

from __future__ import annotations

from botocore.exceptions import ClientError

from sello.adapters import aws


def document_key(account_id: str, document_id: str, filename: str) -> str:
    return f"accounts/{account_id}/documents/{document_id}/{filename}"


def issuer_key(account_id: str, issuer_id: str, filename: str) -> str:
    return f"accounts/{account_id}/issuers/{issuer_id}/{filename}"


class S3Blobs:
    def __init__(self, bucket: str):
        self.bucket = bucket

    def put(self, key: str, data: bytes, content_type: str) -> None:
        aws.client("s3").put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=content_type)

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        try:
            return aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def delete(self, key: str) -> None:
        """Removes the object (in a versioned bucket, its current version); no object is not an error."""
        aws.client("s3").delete_object(Bucket=self.bucket, Key=key)
