"""The merged OpenAPI document: every route's tag is one the document lists, in the order newcomers meet them."""

from __future__ import annotations

import json

from functions.api.docs import TAG_ORDER, merged_spec


def test_every_operation_tag_is_listed_in_order():
    document = json.loads(merged_spec())
    used = {tag for operations in document["paths"].values() for op in operations.values() for tag in op["tags"]}
    assert [t["name"] for t in document["tags"]] == list(TAG_ORDER)
    assert used == set(TAG_ORDER)


def test_printable_text_fields_state_their_rule():
    schemas = json.loads(merged_spec())["components"]["schemas"]
    for model, field in (("SignUpRequest", "company_name"), ("CreateIssuerRequest", "legal_name")):
        pattern = schemas[model]["properties"][field]["pattern"]
        assert pattern == r"^[^\u0000-\u001f\u007f\ufffe\uffff]*$", (model, field)
