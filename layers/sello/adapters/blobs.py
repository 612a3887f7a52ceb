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

    def url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str:
        """A presigned GET URL of the object, valid `expires_in` seconds (or less: never longer than
        the credentials that sign it), whose answer carries that Content-Type and a
        Content-Disposition naming `filename` (an attachment). Signing is local: S3 is not called."""
        return aws.presigner("s3").generate_presigned_url("get_object", ExpiresIn=expires_in, Params={
            "Bucket": self.bucket, "Key": key, "ResponseContentType": content_type,
            "ResponseContentDisposition": f'attachment; filename="{filename}"'})

    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is no such object."""
        try:
            return aws.client("s3").get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404"):
                return None
            raise

    def content_type(self, key: str) -> str | None:
        """The object's Content-Type as stored, or None when there is no such object (S3 is asked
        for the object's metadata only)."""
        try:
            return aws.client("s3").head_object(Bucket=self.bucket, Key=key)["ContentType"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NotFound"):
                return None
            raise

    def delete(self, key: str) -> None:
        """Removes the object (in a versioned bucket, its current version); no object is not an error."""
        aws.client("s3").delete_object(Bucket=self.bucket, Key=key)
