"""Documents: read one and list them. A caller sees only its own account's documents of its API
key's environment; any other document is simply not found."""

from __future__ import annotations

import re
from typing import Protocol

from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.errors import NotFound, Unprocessable
from sello.http import Principal
from sello.models.documents import DOCUMENT_STATUSES, Document, DocumentList, DocumentView
from sello.settings import get_settings

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
# What new_id("doc") produces. Anything else cannot exist, and is refused before it reaches a key.
DOCUMENT_ID = re.compile(r"doc_[a-z0-9]{20}")


class DocumentsRepo(Protocol):
    def get(self, account_id: str, document_id: str) -> Document | None: ...
    def list(self, account_id: str, environment: str, *, limit: int, cursor: str | None = None,
             status: str | None = None) -> tuple[list[Document], str | None]: ...


def document_not_found() -> NotFound:
    return NotFound("No document with this id.", code="document_not_found", path="document_id")


class DocumentService:
    def __init__(self, repo: DocumentsRepo):
        self.repo = repo

    def get(self, principal: Principal, document_id: str) -> DocumentView:
        if not DOCUMENT_ID.fullmatch(document_id):
            raise document_not_found()
        doc = self.repo.get(principal.account_id, document_id)
        if doc is None or doc.environment != principal.environment:
            raise document_not_found()
        return DocumentView.of(doc)

    def list(self, principal: Principal, status: str | None = None, limit: int = DEFAULT_PAGE_SIZE,
             cursor: str | None = None) -> DocumentList:
        """A page of at most `limit` (1 to MAX_PAGE_SIZE, as the route checks) documents, newest first."""
        if status is not None and status not in DOCUMENT_STATUSES:
            raise Unprocessable(f"status must be one of {', '.join(DOCUMENT_STATUSES)}.",
                                code="invalid_status", path="status")
        docs, next_cursor = self.repo.list(principal.account_id, principal.environment, limit=limit,
                                           cursor=cursor, status=status)
        return DocumentList(data=[DocumentView.of(d) for d in docs], next_cursor=next_cursor)


def default_service() -> DocumentService:
    return DocumentService(DynamoDocumentsRepo(DynamoStore(get_settings().table_name)))
