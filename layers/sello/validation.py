"""Pydantic's validation errors in the caller's terms: what to send instead, never the validator's
wording or a regular expression. An enum lists its accepted values, a format is described with an
example, an unknown field names the closest allowed one (or lists them).

`problem(error, schema)` turns one pydantic error (as `ValidationError.errors()` gives it) into the
stable code and a deferred message (sello.i18n.Message); `schema` is the JSON schema of the body
model, to find the fields allowed where an unknown one was sent. The input value is never repeated:
it may be a password.

`validate_body(model, data)` validates a request body with a model chosen at run time (the issuer's
country decides it): its errors reach the caller as those of a body the API validated itself."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from sello.i18n import Message, _l, _ln

M = TypeVar("M", bound=BaseModel)


class InvalidBody(Exception):
    """A request body failed `model`: its pydantic errors, located in the body (`("body", ...)`) and
    without their input (it may hold a password). sello.http answers it as it answers a body the
    resolver validated (422, a code, a path and a message per problem)."""

    def __init__(self, errors: list[dict[str, Any]], model: type[BaseModel]):
        super().__init__(f"{len(errors)} problem(s) in the body ({model.__name__})")
        self.errors = errors
        self.model = model


def body_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"type": e["type"], "loc": ("body", *e["loc"]), "msg": e["msg"],
             **({"ctx": e["ctx"]} if "ctx" in e else {})} for e in exc.errors()]


def validate_body(model: type[M], data: Any) -> M:
    """`data` (parsed JSON, or an instance of `model` already) as `model`; InvalidBody otherwise. A
    value that is no object is refused in the same words as for any model."""
    try:
        return model.model_validate(data, from_attributes=True)
    except ValidationError as exc:
        raise InvalidBody(body_errors(exc), model) from None

# Pydantic error types mapped to the stable codes clients see; any other is invalid_value.
CODES = {
    "extra_forbidden": "unknown_field",
    "missing": "missing_field",
}
MAX_LISTED = 40  # allowed fields or values listed in a message at most


def _values(items: list[str] | tuple[str, ...]) -> str:
    shown = [f"`{v}`" for v in items[:MAX_LISTED]]
    return ", ".join(shown) + (", …" if len(items) > MAX_LISTED else "")


# Formats the request models check with a pattern, described for people. Keyed by the pattern; the
# tests check that every pattern of a request model has a description here or in `_generic_pattern`.
def _payment_methods() -> Message:
    from sello.models.document_parts import PAYMENT_METHODS

    return _l("Use one of {values}, or an SRI payment code from 01 to 21.", values=_values(PAYMENT_METHODS))


@lru_cache(maxsize=1)
def _pattern_descriptions() -> dict[str, Message]:
    from sello.models.document_parts import PAYMENT_METHODS

    payment = rf"^({'|'.join(PAYMENT_METHODS)}|0[1-9]|1[0-9]|2[01])$"
    return {
        r"^[0-9]{3}-[0-9]{3}-[0-9]{9}$": _l("Write the number as establishment-emission point-sequence, "
                                             "e.g. 001-001-000000042."),
        r"^([0-9]{10}|[0-9]{37}|[0-9]{49})$": _l("Send the authorization number: 10, 37 or 49 digits."),
        r"^(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})$": _l("Send three digits from 001 to 999, e.g. 001."),
        r"^[A-Za-z]{3}$": _l("Send a three-letter currency code, e.g. USD."),
        r"^[0-9A-Za-z]{1,5}$": _l("Send 1 to 5 letters or digits, e.g. 312."),
        r"^(0[1-9]|1[0-2])/20[0-9]{2}$": _l("Send the month and year as MM/YYYY, e.g. 03/2026."),
        r"^[1-9][0-9]{0,7}$": _l("Send 1 to 8 digits without leading zeros, e.g. 1."),
        payment: _payment_methods(),
    }


_DIGITS = re.compile(r"^\^\[0-9\]\{(\d+)(?:,(\d+))?\}\$$")
_WORDS = re.compile(r"^\^\(([A-Za-z0-9_]+(?:\|[A-Za-z0-9_]+)+)\)\$$")


def _generic_pattern(pattern: str) -> Message | None:
    """Simple patterns described from their shape: digits of a length, or a choice of words."""
    digits = _DIGITS.match(pattern)
    if digits:
        low, high = int(digits[1]), int(digits[2] or digits[1])
        if low == high:
            return _ln("Send {n} digit, e.g. {example}.", "Send {n} digits, e.g. {example}.", low,
                       example="0" * (low - 1) + "1")
        return _l("Send {low} to {high} digits.", low=low, high=high)
    words = _WORDS.match(pattern)
    if words:
        return _l("Use one of {values}.", values=_values(words[1].split("|")))
    return None


def pattern_description(pattern: str) -> Message | None:
    return _pattern_descriptions().get(pattern) or _generic_pattern(pattern)


# Where an unknown field was sent: the fields allowed there, from the body's JSON schema. --------

def _resolve(schema: dict, root: dict) -> dict:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = root.get("$defs", {}).get(name, {})
        seen += 1
    return schema if isinstance(schema, dict) else {}


def _variants(schema: dict, root: dict) -> list[dict]:
    schema = _resolve(schema, root)
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            return [v for option in schema[key] for v in _variants(option, root)]
    return [schema]


def _step(schemas: list[dict], part: Any, root: dict) -> list[dict]:
    out: list[dict] = []
    for schema in schemas:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            if schema.get("type") == "array" or "items" in schema:
                out += _variants(schema.get("items", {}), root)
            elif isinstance(schema.get("additionalProperties"), dict):
                out += _variants(schema["additionalProperties"], root)
        else:
            props = schema.get("properties", {})
            if part in props:
                out += _variants(props[part], root)
            elif isinstance(schema.get("additionalProperties"), dict):
                out += _variants(schema["additionalProperties"], root)
    return out


def allowed_fields(schema: dict | None, loc: tuple) -> list[str]:
    """The field names the object at `loc` (without the unknown name itself) accepts."""
    if not schema:
        return []
    current = _variants(schema, schema)
    for part in loc:
        current = _step(current, part, schema)
        if not current:
            return []
    names: list[str] = []
    for variant in current:
        for name in variant.get("properties", {}):
            if name not in names:
                names.append(name)
    return names


def _unknown_field(loc: tuple, schema: dict | None) -> Message:
    """The path names the field; the message says what the object takes instead (the name is not
    repeated: a request with many long unknown names would make the answer large)."""
    name = str(loc[-1]) if loc else ""
    import difflib  # only for the answer to an unknown field

    allowed = allowed_fields(schema, loc[:-1])
    if not allowed:
        return _l("Not a field of this request; remove it.")
    close = difflib.get_close_matches(name.lower(), [a.lower() for a in allowed], n=1, cutoff=0.6)
    if close:
        suggestion = next(a for a in allowed if a.lower() == close[0])
        return _l("Not a field here; did you mean `{suggestion}`?", suggestion=suggestion)
    return _l("Not a field here; the fields allowed are {allowed}.", allowed=_values(allowed))


# One message per pydantic error type ----------------------------------------------------------

_NUMBER = _l("Send a number: a JSON number or a decimal string such as \"12.50\".")
_DATE = _l("Send a date as YYYY-MM-DD, e.g. 2026-03-02.")
_DATETIME = _l("Send a date and time in ISO 8601, e.g. 2026-03-02T10:30:00-05:00.")
_OBJECT = _l("Send an object (JSON {{…}}) here.")
_SIMPLE: dict[str, Message] = {
    "string_type": _l("Send text (a JSON string) here."),
    "string_unicode": _l("Send text (a JSON string) here."),
    "string_not_ascii": _l("Use only ASCII characters here."),
    "int_type": _l("Send a whole number here."),
    "int_parsing": _l("Send a whole number here."),
    "int_from_float": _l("Send a whole number here."),
    "bool_type": _l("Send true or false here."),
    "bool_parsing": _l("Send true or false here."),
    "decimal_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "float_type": _NUMBER,
    "float_parsing": _NUMBER,
    "finite_number": _l("Send a finite number (NaN and Infinity are not numbers)."),
    "list_type": _l("Send a list (a JSON array) here."),
    "tuple_type": _l("Send a list (a JSON array) here."),
    "dict_type": _OBJECT,
    "model_type": _OBJECT,
    "model_attributes_type": _OBJECT,
    "date_type": _DATE,
    "date_parsing": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": _DATE,
    "datetime_type": _DATETIME,
    "datetime_parsing": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "bytes_type": _l("Send the file here."),
    "none_required": _l("Leave this field out."),
}


def _expected_values(ctx: dict) -> list[str]:
    expected = str(ctx.get("expected", ""))
    return re.findall(r"'([^']*)'", expected) or [e.strip() for e in re.split(r",| or ", expected) if e.strip()]


def _sized(kind: str, ctx: dict) -> Message | None:
    if kind == "string_too_short":
        n = int(ctx.get("min_length", 1))
        return _l("This field must not be empty.") if n <= 1 else _ln(
            "Send at least {n} character.", "Send at least {n} characters.", n)
    if kind == "string_too_long":
        n = int(ctx.get("max_length", 0))
        return _ln("Send at most {n} character.", "Send at most {n} characters.", n)
    if kind == "too_short":
        n = int(ctx.get("min_length", 1))
        return _ln("Send at least {n} item.", "Send at least {n} items.", n)
    if kind == "too_long":
        n = int(ctx.get("max_length", 0))
        return _ln("Send at most {n} item.", "Send at most {n} items.", n)
    if kind == "decimal_max_digits":
        n = int(ctx.get("max_digits", 0))
        return _ln("Use at most {n} digit in all.", "Use at most {n} digits in all.", n)
    if kind == "decimal_max_places":
        n = int(ctx.get("decimal_places", 0))
        return _l("Use no decimals here.") if n == 0 else _ln(
            "Use at most {n} decimal place.", "Use at most {n} decimal places.", n)
    if kind == "decimal_whole_digits":
        n = int(ctx.get("whole_digits", 0))
        return _ln("Use at most {n} digit before the decimal point.",
                   "Use at most {n} digits before the decimal point.", n)
    return None


def _bounded(kind: str, ctx: dict) -> Message | None:
    if kind == "greater_than":
        return _l("Send a value greater than {limit}.", limit=ctx.get("gt"))
    if kind == "greater_than_equal":
        return _l("Send {limit} or more.", limit=ctx.get("ge"))
    if kind == "less_than":
        return _l("Send a value less than {limit}.", limit=ctx.get("lt"))
    if kind == "less_than_equal":
        return _l("Send {limit} or less.", limit=ctx.get("le"))
    if kind == "multiple_of":
        return _l("Send a multiple of {limit}.", limit=ctx.get("multiple_of"))
    return None


def _custom(kind: str, error: dict) -> Message | None:
    ctx = error.get("ctx") or {}
    if kind == "value_error":
        cause = ctx.get("error")
        text = getattr(cause, "text", None)
        if isinstance(text, Message):
            return text
        if "reason" in ctx and "email" in str(error.get("msg", "")):
            return _l("Send a valid email address, e.g. ana@example.com.")
        # A validator of ours that still raises a plain ValueError: its own words (source language).
        return Message(str(error.get("msg", "")).removeprefix("Value error, "))
    return None


def message(error: dict, schema: dict | None = None, loc: tuple | None = None) -> Message:
    """The message for one pydantic error. `loc` is the error's location within the body."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    loc = tuple(error.get("loc", ())) if loc is None else loc
    if kind == "missing":
        return _l("This field is required.")
    if kind == "extra_forbidden":
        return _unknown_field(loc, schema)
    if kind in ("literal_error", "enum"):
        return _l("Use one of {values}.", values=_values(_expected_values(ctx)))
    if kind == "union_tag_invalid":
        tags = _expected_values({"expected": ctx.get("expected_tags", "")})
        return _l("Use one of {values} for `{field}`.", values=_values(tags),
                  field=str(ctx.get("discriminator", "")).strip("'"))
    if kind == "union_tag_not_found":
        return _l("`{field}` is required.", field=str(ctx.get("discriminator", "")).strip("'"))
    if kind == "string_pattern_mismatch":
        return pattern_description(str(ctx.get("pattern", ""))) or _l(
            "This value does not have the expected format; see the field's description and examples in the "
            "API reference.")
    found = _SIMPLE.get(kind) or _sized(kind, ctx) or _bounded(kind, ctx) or _custom(kind, error)
    return found or _l("This value is not valid here; see the field's description in the API reference.")


def code(error: dict) -> str:
    return CODES.get(error.get("type", ""), "invalid_value")
