"""The Authorization header through the local API Gateway adapter and the real authorizer: each
variant of the documented form is answered as in AWS (200 for the accepted ones, 401 `unauthorized`
for the others), before any function runs."""

from __future__ import annotations

import json

import pytest
from werkzeug.test import EnvironBuilder, run_wsgi_app

from local.gateway import Gateway
from tests.helpers import ACCEPTED_FORMS, REFUSED_FORMS


@pytest.fixture
def key(aws):
    from sello.services.accounts import seed_account

    return seed_account("Comercial Andina S.A.", "ana.torres@example.com")[1]


def get_me(authorization: str | None) -> tuple[int, dict]:
    """GET /v1/accounts/me with this Authorization value, put in the WSGI environ as the local
    stack's HTTP server would (werkzeug's test client would refuse the line breaks)."""
    environ = EnvironBuilder(path="/v1/accounts/me", method="GET").get_environ()
    if authorization is not None:
        environ["HTTP_AUTHORIZATION"] = authorization
    body, status, _ = run_wsgi_app(Gateway(), environ)
    return int(status.split()[0]), json.loads(b"".join(body))


@pytest.mark.parametrize("form", list(ACCEPTED_FORMS.values()), ids=list(ACCEPTED_FORMS))
def test_accepted_forms_reach_the_function(key, form):
    status, body = get_me(form.format(key=key))
    assert (status, body["environment"]) == (200, "test")


@pytest.mark.parametrize("form", [*REFUSED_FORMS.values(), "", "   "], ids=[*REFUSED_FORMS, "empty", "blank"])
def test_other_forms_are_401_before_any_function_runs(key, form):
    status, body = get_me(form.format(key=key))
    assert (status, body["error"]["code"]) == (401, "unauthorized")


def test_no_header_is_401(key):
    status, body = get_me(None)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
