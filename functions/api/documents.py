"""Documents: read one, list them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from sello.http import PageCursor, PageLimit, error_doc, make_app, principal, route_responses
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.documents import DOCUMENT_STATUSES, DocumentList, DocumentView
from sello.services import documents

router = Router()

_DOCUMENTS = ["Documents"]


@router.get("/v1/documents", summary="List documents", tags=_DOCUMENTS,
            description="The documents of the API key's environment (a test key sees test documents, a "
                        "live key live ones), newest first, a page at a time. With `status`, a page may hold "
                        "fewer than `limit` documents while more follow: go on while `next_cursor` is set.",
            responses=route_responses(200, "A page of documents", {
                400: error_doc("`invalid_cursor`"), 422: error_doc("`invalid_status`")}))
def list_documents(
    status: Annotated[str | None, Query(description="Only documents in this status.",
                                        json_schema_extra={"enum": list(DOCUMENT_STATUSES)})] = None,
    limit: PageLimit = DEFAULT_PAGE_SIZE,
    cursor: PageCursor = None,
) -> DocumentList:
    caller = principal(router)
    return documents.default_service().list(caller.account_id, caller.environment, status, limit, cursor)


@router.get("/v1/documents/<document_id>", summary="Get a document", tags=_DOCUMENTS,
            description="The document's status and what the tax authority said about it.",
            responses=route_responses(200, "The document", {404: error_doc("`document_not_found`")}))
def get_document(
    document_id: Annotated[str, Path(description="The document's id: `doc_` and 20 lower-case letters or "
                                                 "digits. Any other value is `document_not_found`.")],
) -> DocumentView:
    caller = principal(router)
    return documents.default_service().get(caller.account_id, caller.environment, document_id)


app = make_app(router)


def handler(event, context):
    return app.resolve(event, context)
