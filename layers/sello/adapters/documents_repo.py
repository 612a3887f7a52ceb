"""Documents in the single table.

| item     | pk           | sk           | gsi1pk                          | gsi1sk                    |
|----------|--------------|--------------|---------------------------------|---------------------------|
| document | ACCOUNT#<id> | DOC#<doc id> | DOCS#<account id>#<environment> | <created_at ISO>#<doc id> |

The index lists an account's documents of one environment, newest first, so a test key never pages
through live documents and the other way round. The item's `type` says what kind of item it is, as
everywhere in the table; the document's own type is kept in `document_type`."""

from __future__ import annotations

from boto3.dynamodb.conditions import Attr

from sello.adapters.dynamo import PK, SK, ConditionFailed, DynamoStore, account_pk, cursor_after
from sello.catalog import TABLE
from sello.ids import iso
from sello.models.documents import Document

GSI_PK, GSI_SK = TABLE.gsi_partition_key, TABLE.gsi_sort_key
ITEM_TYPE = "document"
# A filtered list reads the index this many items at a time, and at most MAX_QUERIES times for one
# page; a page that is still not full then ends early, with a cursor to go on from.
FILTERED_BATCH = 100
MAX_QUERIES = 10


def document_keys(account_id: str, document_id: str) -> tuple[str, str]:
    return account_pk(account_id), f"DOC#{document_id}"


def list_pk(account_id: str, environment: str) -> str:
    return f"DOCS#{account_id}#{environment}"


def _item(doc: Document) -> dict:
    item = doc.model_dump(mode="json", exclude_none=True, exclude={"type"})
    pk, sk = document_keys(doc.account_id, doc.id)
    created_at = iso(doc.created_at)
    item.update({PK: pk, SK: sk, "type": ITEM_TYPE, "document_type": doc.type, "created_at": created_at,
                 "updated_at": iso(doc.updated_at or doc.created_at),
                 GSI_PK: list_pk(doc.account_id, doc.environment), GSI_SK: f"{created_at}#{doc.id}"})
    return item


def _document(item: dict) -> Document:
    data = {k: v for k, v in item.items() if k not in (PK, SK, GSI_PK, GSI_SK, "type", "document_type")}
    data.setdefault("id", item[SK].removeprefix("DOC#"))
    data.setdefault("account_id", item[PK].removeprefix("ACCOUNT#"))
    return Document.model_validate({**data, "type": item.get("document_type")})


class DynamoDocumentsRepo:
    def __init__(self, store: DynamoStore):
        self.store = store

    def put_new(self, doc: Document) -> bool:
        """Stores a new document; False when one with its id already exists."""
        try:
            self.store.put(_item(doc), unique=True)
        except ConditionFailed:
            return False
        return True

    def get(self, account_id: str, document_id: str) -> Document | None:
        item = self.store.get(*document_keys(account_id, document_id))
        return _document(item) if item else None

    def list(self, account_id: str, environment: str, *, limit: int, cursor: str | None = None,
             status: str | None = None) -> tuple[list[Document], str | None]:
        """A page of the environment's documents, newest first.

        Without a filter, one query of `limit` items is the page. With `status`, DynamoDB filters
        each query's items (FilterExpression), so a query may return fewer than it read; queries go
        on from where the last one stopped until the page is full. When a query returns more matches
        than the page has room for, the page ends at its last item and the cursor is built from that
        item's keys, so the next page starts right after it: nothing is skipped or repeated."""
        where = Attr("status").eq(status) if status else None
        batch_size = max(limit, FILTERED_BATCH) if where is not None else limit
        pk = list_pk(account_id, environment)
        page: list[dict] = []
        for _ in range(MAX_QUERIES):
            batch, cursor = self.store.query(pk, limit=batch_size, cursor=cursor, index=True, forward=False,
                                             where=where)
            room = limit - len(page)
            if len(batch) > room:
                page += batch[:room]
                return [_document(i) for i in page], cursor_after(page[-1], index=True)
            page += batch
            if len(page) == limit or not cursor:
                break
        return [_document(i) for i in page], cursor
