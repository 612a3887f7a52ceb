"""Files a client fetches from the bucket itself, at a short-lived presigned URL: the API answers a
download with a redirect to it (sello.http.file_redirect), so the bytes never pass through a function
or API Gateway and do not depend on the request's Accept header or on its size."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sello.settings import Settings, get_settings


@dataclass(frozen=True)
class Download:
    """Where a file can be fetched for a while (a presigned URL), and what it is."""

    url: str
    filename: str
    content_type: str
    expires_at: datetime


class FileLinks(Protocol):
    def url(self, key: str, *, filename: str, content_type: str, expires_in: int) -> str: ...


def download(files: FileLinks, key: str, *, filename: str, content_type: str, now: datetime,
             settings: Settings | None = None) -> Download:
    """A presigned URL of the object `key`, valid `download_url_ttl_seconds` from `now`, whose answer
    carries `content_type` and names `filename` as an attachment."""
    ttl = (settings or get_settings()).download_url_ttl_seconds
    url = files.url(key, filename=filename, content_type=content_type, expires_in=ttl)
    return Download(url, filename, content_type, now + timedelta(seconds=ttl))
