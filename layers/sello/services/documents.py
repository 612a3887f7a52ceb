"""Documents: read one and list them. A caller sees only its own account's documents of its API
key's environment; any other document is simply not found."""

from __future__ import annotations

from typing import Protocol

from sello.adapters.documents_repo import DynamoDocumentsRepo
from sello.adapters.dynamo import DynamoStore
from sello.errors import NotFound, Unprocessable
from sello.ids import is_id
from sello.models.accounts import Environment
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.documents import DOCUMENT_STATUSES, Document, DocumentList, DocumentView
from sello.settings import get_settings


class DocumentsRepo(Protocol):
    def get(self, account_id: str, document_id: str) -> Document | None: ...
    def list(self, account_id: str, environment: str, *, limit: int, cursor: str | None = None,
             status: str | None = None) -> tuple[list[Document], str | None]: ...


def document_not_found() -> NotFound:
    return NotFound("No document with this id.", code="document_not_found", path="document_id")


class DocumentService:
    def __init__(self, repo: DocumentsRepo):
        self.repo = repo

    def get(self, account_id: str, environment: Environment, document_id: str) -> DocumentView:
        doc = self.repo.get(account_id, document_id) if is_id(document_id, "doc") else None
        if doc is None or doc.environment != environment:
            raise document_not_found()
        return DocumentView.of(doc)

    def list(self, account_id: str, environment: Environment, status: str | None = None,
             limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> DocumentList:
        """A page of at most `limit` documents (1 to MAX_PAGE_SIZE, as the route checks), newest first."""
        if status is not None and status not in DOCUMENT_STATUSES:
            raise Unprocessable(f"status must be one of {', '.join(DOCUMENT_STATUSES)}.",
                                code="invalid_status", path="status")
        docs, next_cursor = self.repo.list(account_id, environment, limit=limit, cursor=cursor,
                                           status=status)
        return DocumentList(data=[DocumentView.of(d) for d in docs], next_cursor=next_cursor)


def default_service() -> DocumentService:
    return DocumentService(DynamoDocumentsRepo(DynamoStore(get_settings().table_name)))
