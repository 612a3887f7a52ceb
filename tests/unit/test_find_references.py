"""The documents a request names by Sello id (a credit note's invoices, a payment's, a substitute):
services.documents.find_references takes only this issuer's authorized documents of the environment,
and never one cancelled at the tax authority."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sello.errors import Unprocessable
from sello.models.documents import Document
from sello.services.documents import find_references

ACCOUNT, ISSUER, DOC = "acct_1", "iss_1", "doc_7m2k9x4v1c8b3n6q0w5e"


class Repo:
    def __init__(self, **fields):
        self.doc = Document(id=DOC, account_id=ACCOUNT, environment="test", type="invoice", country="MX",
                            issuer_id=ISSUER, status="authorized", authorization_number="5FB2822E-396D-4725-8521-"
                            "CDC4BDD20CCF", created_at=datetime(2026, 3, 2, tzinfo=UTC)).model_copy(update=fields)

    def get(self, account_id: str, document_id: str) -> Document | None:
        return self.doc if (account_id, document_id) == (ACCOUNT, DOC) else None


def refused(repo: Repo, issuer: str = ISSUER, environment: str = "test") -> Unprocessable:
    with pytest.raises(Unprocessable) as caught:
        find_references(repo, ACCOUNT, environment, issuer, ((DOC, "related.0"),))
    assert caught.value.path == "related.0"
    return caught.value


def test_an_authorized_document_of_the_issuer_is_found():
    repo = Repo()
    assert find_references(repo, ACCOUNT, "test", ISSUER, ((DOC, "related.0"),)) == {DOC: repo.doc}


@pytest.mark.parametrize("cancellation, found", [(None, True), ("pending", True), ("rejected", True),
                                                 ("failed", True), ("accepted", False), ("expired", False)])
def test_a_document_cancelled_at_the_authority_is_not_related(cancellation, found):
    repo = Repo(cancellation_status=cancellation)
    if found:  # a cancellation that is not (or not yet) final leaves the document in force
        assert DOC in find_references(repo, ACCOUNT, "test", ISSUER, ((DOC, "related.0"),))
    else:
        assert refused(repo).code == "related_document_cancelled"


def test_another_issuers_environments_or_unauthorized_document_is_refused():
    assert refused(Repo(), issuer="iss_2").code == "related_document_not_found"
    assert refused(Repo(), environment="live").code == "related_document_not_found"
    assert refused(Repo(status="rejected")).code == "related_document_not_authorized"
