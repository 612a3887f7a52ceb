"""The error examples of the OpenAPI document (sello.error_examples) against the code that raises the
errors: each example's message is a template its code is raised with, with the same status, and every
placeholder filled; every code the package raises has an example; each example is a valid ErrorBody.

The raise sites are read from the source (ast) of the package, the API functions and the registered
country plugins: an error built with a message `_l("…")` and a literal
`code`, directly, through a helper that takes the message (`reject(_l("…"), "code")`, `invalid_logo(
_l("…"))`), or from a message chosen in the same function or from a module-level table of messages."""

from __future__ import annotations

import ast
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from sello import errors
from sello.http import ErrorBody, ErrorDetail, error_doc, error_examples_registry, route_responses
from sello.i18n import Message

from tests.conftest import REPO_ROOT
from tests.helpers import parse_source

SOURCES = (REPO_ROOT / "layers" / "sello", REPO_ROOT / "functions")
ERROR_CLASSES = {name: cls for name, cls in vars(errors).items()
                 if isinstance(cls, type) and issubclass(cls, errors.SelloError)}
# Codes raised in the package that never reach a client as such, and why.
UNANSWERED = {
    "invalid_api_key": "the authorizer turns it into API Gateway's 401 unauthorized",
    ("account_inactive", 409): "seed_account, for the local stack's demo accounts only",
}


def _is_l(node) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_l"
            and bool(node.args) and isinstance(node.args[0], ast.Constant))


def _l_in(node) -> list[str]:
    """The msgids of `_l(...)` or of either branch of `_l(...) if ... else _l(...)`."""
    if _is_l(node):
        return [node.args[0].value]
    if isinstance(node, ast.IfExp):
        return _l_in(node.body) + _l_in(node.orelse)
    return []


def _literal(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


class _Scan:
    """(code, status) -> the msgids raised with it, over every module of the package."""

    def __init__(self):
        self.raised: dict[tuple[str, int], set[str]] = defaultdict(set)
        # helper name -> (its code or the index of the parameter that gives it, status, index of the message's)
        self.factories: dict[str, tuple[str | int, int, int]] = {}
        self.calls: list[tuple[ast.Call, dict]] = []

    def status_of(self, func_name: str, tree_defs: dict) -> int | None:
        if func_name in ERROR_CLASSES:
            return ERROR_CLASSES[func_name].status
        helper = tree_defs.get(func_name)  # a local helper that builds the error, e.g. reject()
        if helper is not None:
            for node in ast.walk(helper):
                if isinstance(node, ast.Call) and _name(node.func) in ERROR_CLASSES:
                    return ERROR_CLASSES[_name(node.func)].status
        return None

    def module(self, tree: ast.Module) -> None:
        defs = {node.name: node for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
        tables = {target.id: node.value for node in tree.body if isinstance(node, ast.Assign)
                  for target in node.targets if isinstance(target, ast.Name) and isinstance(node.value, ast.Dict)}
        for function in [tree, *defs.values()]:
            names = [a.arg for a in function.args.args] if isinstance(function, ast.FunctionDef) else []
            params = set(names)
            assigned = defaultdict(list)
            for node in ast.walk(function):
                if isinstance(node, ast.Assign) and _l_in(node.value):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            assigned[target.id].extend(_l_in(node.value))
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                keywords = {k.arg: k.value for k in node.keywords}
                code = _literal(keywords.get("code")) or next(
                    (_literal(a) for a in node.args[1:] if _literal(a)), None)
                status = self.status_of(_name(node.func), defs)
                if "status" in keywords and isinstance(keywords["status"], ast.Constant):
                    status = keywords["status"].value
                first = node.args[0]
                if code is None and _name(node.func) in ERROR_CLASSES and _is_l(first):
                    code = ERROR_CLASSES[_name(node.func)].code  # the class's own code
                given = keywords.get("code")
                if (code is None and status is not None and isinstance(given, ast.Name) and given.id in params
                        and isinstance(first, ast.Name) and first.id in params):
                    # a helper that takes the code and the message: its callers pass both
                    self.factories[function.name] = (names.index(given.id), status, names.index(first.id))
                    continue
                if any(_is_l(a) for a in node.args):
                    self.calls.append((node, defs))  # maybe a helper's call, resolved later
                if code is None or status is None:
                    continue
                for msgid in self._messages(first, assigned, tables):
                    self.raised[(code, status)].add(msgid)
                if isinstance(first, (ast.Name, ast.BoolOp)) and isinstance(function, ast.FunctionDef):
                    name = first.id if isinstance(first, ast.Name) else getattr(first.values[0], "id", None)
                    if name in params:  # a helper that takes the message: its callers pass it
                        self.factories[function.name] = (code, status, names.index(name))

    @staticmethod
    def _messages(node, assigned: dict, tables: dict) -> list[str]:
        if _l_in(node):
            return _l_in(node)
        if isinstance(node, ast.BoolOp):
            return [m for value in node.values for m in _Scan._messages(value, assigned, tables)]
        if isinstance(node, ast.Name):
            return assigned.get(node.id, [])
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in tables:
            return [v.args[0].value for v in tables[node.value.id].values if _is_l(v)]
        return []

    def resolve_helpers(self) -> None:
        for node, _defs in self.calls:
            found = self.factories.get(_name(node.func))
            if not found or len(node.args) <= found[2] or not _is_l(node.args[found[2]]):
                continue
            code, status, message = found
            if isinstance(code, int):
                code = _literal(node.args[code]) if len(node.args) > code else None
            if code:
                self.raised[(code, status)].add(node.args[message].args[0].value)


def sources() -> list[Path]:
    """The modules whose errors reach a client: the package and the API functions, of the country
    packages only the registered plugins'."""
    from sello import countries

    plugins = {module.split(".")[2] for module in countries.error_example_modules()}  # sello.countries.<cc>.…
    country_root = REPO_ROOT / "layers" / "sello" / "countries"
    return [path for folder in SOURCES for path in sorted(folder.rglob("*.py"))
            if not (path.is_relative_to(country_root) and path.parent != country_root
                    and path.relative_to(country_root).parts[0] not in plugins)]


@cache
def raised() -> dict[tuple[str, int], set[str]]:
    scan = _Scan()
    for path in sources():
        scan.module(parse_source(path))
    scan.resolve_helpers()
    return dict(scan.raised)


def every_example():
    """The registered examples and every plugin's (a plugin's may be shadowed by a shared one)."""
    import importlib

    from sello import countries

    registry = error_examples_registry()
    found = list(registry.registered())
    for module in countries.error_example_modules():
        found += [e for e in importlib.import_module(module).examples() if e not in found]
    return found


def test_the_scan_finds_the_raise_sites_it_is_meant_to_read():
    found = raised()
    assert "No document with this id." in found[("document_not_found", 404)]  # direct
    assert "The certificate file holds a private key but no certificate." in found[("certificate_missing", 422)]
    assert "The logo is not a PNG or JPEG image." in found[("invalid_logo", 422)]  # through invalid_logo()
    assert any("PDF is not available yet" in m for m in found[("document_not_ready", 409)])  # a table
    assert any("was rejected" in m for m in found[("document_not_authorized", 409)])  # chosen in the function
    assert "The code is not the live-activation code of this account." in found[
        ("invalid_confirmation_code", 422)]  # a helper's default and its callers'
    assert "A code was sent moments ago. Wait a little before asking again." in found[
        ("too_many_requests", 429)]  # the class's own code
    assert len(found) > 80


@pytest.mark.parametrize("example", every_example(), ids=lambda e: f"{e.code}-{e.status}-{e.context}")
def test_each_example_is_a_message_its_code_is_raised_with(example):
    body = ErrorBody.model_validate(example.body())
    assert set(example.body()["error"]) <= set(ErrorDetail.model_fields)
    assert body.error.code == example.code and body.error.message
    filled = example.message.params if isinstance(example.message, Message) else example.params
    assert example.placeholders <= set(filled), "a placeholder without a value"
    assert "{" not in example.text() or "{" in example.msgid.replace("{{", "")
    if isinstance(example.message, Message):
        return  # the message object itself (sello.http's own answers, API Gateway's, sello.validation's)
    assert example.msgid in raised().get((example.code, example.status), set()), (
        f"{example.code} ({example.status}) is not raised with this message; it is raised with "
        f"{sorted(raised().get((example.code, example.status), []))}")


def test_every_code_the_package_raises_has_an_example():
    registry = error_examples_registry()
    missing = [(code, status) for code, status in raised()
               if code not in UNANSWERED and (code, status) not in UNANSWERED
               and registry.lookup(code, status) is None]
    assert missing == []


def test_an_unknown_code_has_no_example_and_a_route_cannot_name_it():
    assert error_examples_registry().lookup("no_such_code", 404) is None
    responses = route_responses(200, "OK", {404: error_doc("no_such_code")})
    with pytest.raises(LookupError, match="no_such_code"):
        responses[404]["content"]["application/json"]["examples"]()


def test_an_examples_path_is_the_one_its_message_is_raised_with():
    """Where the raise site of the example's message names a literal path, the example shows it."""
    literal: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for path in sources():
        for node in ast.walk(parse_source(path)):
            if isinstance(node, ast.Call) and node.args and _is_l(node.args[0]):
                keywords = {k.arg: k.value for k in node.keywords}
                code, where = _literal(keywords.get("code")), _literal(keywords.get("path"))
                if code and where and _name(node.func) in ERROR_CLASSES:
                    status = ERROR_CLASSES[_name(node.func)].status
                    literal[(code, status, node.args[0].args[0].value)].add(where)
    checked = 0
    for example in every_example():
        paths = literal.get((example.code, example.status, example.msgid))
        if paths:
            assert example.path in paths, (example.code, example.path, paths)
            checked += 1
    assert checked > 30
