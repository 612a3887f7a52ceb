"""Document files (signed XML, authorized XML, PDF) in the S3 bucket, one folder per account and document."""

from __future__ import annotations

from botocore.exceptions import ClientError

from sello.adapters import aws


def document_key(account_id: str, document_id: str, filename: str) -> str:
    return f"accounts/{account_id}/documents/{document_id}/{filename}"


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
