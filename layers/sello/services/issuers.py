"""Issuers: register a company that issues documents, read and list them. Everything is scoped to
the caller's account, so another account's issuer is simply not found.

A body is read in two steps: its `country` (missing or malformed: 422 at `country`; not supported:
422 unsupported_country), then the whole body with that country's plugin's `issuer_request_model`
(422 at each field), then the plugin's check of the tax id."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger

from sello.adapters.dynamo import DynamoStore, item_size
from sello.adapters.issuers_repo import DynamoIssuersRepo
from sello.countries import get_plugin
from sello.errors import Conflict, NotFound, Unprocessable
from sello.i18n import _l
from sello.ids import is_id, new_id, utcnow
from sello.models.common import DEFAULT_PAGE_SIZE
from sello.models.country_bodies import IssuerEnvelope
from sello.models.issuers import MAX_ISSUER_BYTES, Issuer
from sello.settings import get_settings
from sello.validation import validate_body

if TYPE_CHECKING:
    from sello.models.issuer_api import IssuerList, IssuerView

logger = Logger(service="sello")


class IssuerLookup(Protocol):
    def get_issuer(self, account_id: str, issuer_id: str) -> Issuer | None: ...


class IssuersRepo(IssuerLookup, Protocol):
    def create_issuer(self, issuer: Issuer) -> bool: ...  # False when the tax id is taken in the account
    def list_issuers(self, account_id: str, limit: int,
                     cursor: str | None) -> tuple[list[Issuer], str | None]: ...


def issuer_not_found() -> NotFound:
    return NotFound(_l("No issuer with this id."), code="issuer_not_found", path="issuer_id")


def lookup_issuer(repo: IssuerLookup, account_id: str, issuer_id: str) -> Issuer | None:
    """The account's issuer with this id; None for any other id (one that cannot exist is not looked up)."""
    return repo.get_issuer(account_id, issuer_id) if is_id(issuer_id, "iss") else None


def find_issuer(repo: IssuerLookup, account_id: str, issuer_id: str) -> Issuer:
    """The account's issuer with this id; issuer_not_found for any other id."""
    issuer = lookup_issuer(repo, account_id, issuer_id)
    if issuer is None:
        raise issuer_not_found()
    return issuer


class IssuerService:
    """The issuers API's service. Its views (models.issuer_api) load with its first answer: the documents
    API imports this module for the lookups above and never answers with them."""

    def __init__(self, repo: IssuersRepo, clock: Callable[[], datetime] = utcnow):
        self.repo = repo
        self.clock = clock

    def _now(self) -> datetime:
        return self.clock().replace(microsecond=0)

    def create(self, account_id: str, body: Any) -> IssuerView:
        """`body`: the request as sent (parsed JSON), or an instance of its country's issuer_request_model."""
        plugin = get_plugin(validate_body(IssuerEnvelope, body).country)
        request = validate_body(plugin.issuer_request_model, body)
        tax_id = plugin.normalize_tax_id(request.tax_id, path="tax_id")
        now = self._now()
        fields = request.model_dump(mode="json", exclude={"country", "tax_id"})
        issuer = Issuer(id=new_id("iss"), account_id=account_id, country=plugin.code, tax_id=tax_id,
                        created_at=now, updated_at=now, **fields)
        size = item_size(issuer.model_dump(mode="json", exclude_none=True))
        if size > MAX_ISSUER_BYTES:
            # The field that takes the most room is the one to cut down (Ecuador: its establishments).
            largest = max(fields, key=lambda name: item_size(fields[name]))
            raise Unprocessable(_l("The issuer would take {size} bytes, over the {limit} an issuer can hold; "
                                   "register fewer entries in {field}, or shorter names.",
                                   size=size, limit=MAX_ISSUER_BYTES, field=largest),
                                code="issuer_too_large", path=largest,
                                extra={"limit": MAX_ISSUER_BYTES, "size": size})
        if not self.repo.create_issuer(issuer):
            raise Conflict(_l("This account already has an issuer with {name} {tax_id}.", name=plugin.tax_id_name,
                              tax_id=tax_id),
                           code="issuer_exists", path="tax_id")
        logger.info("issuer created", account_id=account_id, issuer_id=issuer.id, country=issuer.country)
        from sello.models.issuer_api import IssuerView

        return IssuerView.of(issuer, now)

    def view(self, account_id: str, issuer_id: str) -> IssuerView:
        from sello.models.issuer_api import IssuerView

        return IssuerView.of(find_issuer(self.repo, account_id, issuer_id), self.clock())

    def list(self, account_id: str, limit: int = DEFAULT_PAGE_SIZE, cursor: str | None = None) -> IssuerList:
        from sello.models.issuer_api import IssuerList, IssuerView

        issuers, next_cursor = self.repo.list_issuers(account_id, limit, cursor)
        now = self.clock()
        return IssuerList(data=[IssuerView.of(i, now) for i in issuers], next_cursor=next_cursor)


def default_service() -> IssuerService:
    return IssuerService(DynamoIssuersRepo(DynamoStore(get_settings().table_name)))
