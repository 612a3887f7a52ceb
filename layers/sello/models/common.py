"""What the request models share: the base of request bodies, printable text fields, the
characters no request may carry, and the page sizes of lists."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import core_schema

from sello.i18n import Message, TranslatedValueError, _l

# The API key's environment: a test key's documents go to the authority's test service.
Environment = Literal["test", "live"]

# Characters that tax documents, email headers and PDFs cannot carry.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# Characters XML 1.0 cannot carry at all (not even escaped): C0 controls other than tab, line feed and
# carriage return, surrogates (a JSON "\ud800" escape without its pair) and U+FFFE, U+FFFF. No
# request may hold one anywhere, since any text may end up in a signed document.
NOT_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_PRINTABLE = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
# The printable rule as the OpenAPI document states it.
_PRINTABLE_SCHEMA = {"pattern": r"^[^\u0000-\u001f\u007f\ufffe\uffff]*$"}

# Lists come a page at a time: this many items unless the caller asks for 1 to MAX_PAGE_SIZE.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class EmailStr(str):
    """An email address, validated as pydantic's EmailStr validates it (its validate_email: the same
    checks and errors) and shown in JSON schemas as a string of format `email`. Neither pydantic's
    network types nor email-validator, whose import compiles large regular expressions, load before
    the first address is validated: a cold start that validates none skips them."""

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(_valid_email, core_schema.str_schema())

    @classmethod
    def __get_pydantic_json_schema__(cls, schema: core_schema.CoreSchema, handler: Any) -> dict[str, Any]:
        return {**handler(schema), "type": "string", "format": "email"}


def _valid_email(value: str) -> str:
    from pydantic.networks import validate_email

    return validate_email(value)[1]


class Model(BaseModel):
    """The base of response and stored-record models: their validator and serializer are built on first
    use, not on import, so a cold start pays only for the ones its request uses."""

    model_config = ConfigDict(defer_build=True)


def _none(value: Any) -> bool:
    return value is None


def absent(**field: Any) -> Any:
    """A field of a view that some countries have and others do not: without a value it is left out
    of the JSON (not shown as null), so the others' answers stay as they were."""
    return Field(default=None, exclude_if=_none, **field)


class RequestBody(BaseModel):
    """A request body: a field it does not declare is refused (unknown_field). Built on first use, like
    Model: a function imports the bodies of other routes it never validates (through the services)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)


def _printable(value: str) -> str:
    found = _PRINTABLE.search(value)
    if found and CONTROL_CHARACTERS.match(found.group()):
        raise TranslatedValueError(_l("Remove the control characters (line breaks, tabs, NUL) from this text."))
    if found:
        raise TranslatedValueError(not_xml_message(found.group()))
    return value


def character_name(char: str) -> str:
    return f"U+{ord(char):04X}"


def not_xml_message(char: str) -> Message:
    return _l("Remove the character {char}: XML documents cannot carry it.", char=character_name(char))


def find_not_xml(data: Any, path: str = "") -> tuple[str, str, bool] | None:
    """The first character XML cannot carry (NOT_XML) in `data`, parsed JSON, looking at every
    string, object member names included: (dotted path of the value, or of the object whose member
    name holds it, the character, whether it is in a name). None when there is none. Iterative, so
    any depth json.loads reads is fine."""
    stack: list[tuple[str, Any]] = [(path, data)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            found = NOT_XML.search(value)
            if found:
                return where, found.group(), False
        elif isinstance(value, dict):
            for name in value:
                found = NOT_XML.search(name)
                if found:
                    return where, found.group(), True
            stack.extend((f"{where}.{name}" if where else name, item)
                         for name, item in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((f"{where}.{index}" if where else str(index), item)
                         for index, item in reversed(list(enumerate(value))))
    return None


def text(max_length: int, min_length: int = 1):
    """Printable text: surrounding blanks stripped, no control characters, which tax documents,
    email headers and PDFs cannot carry, nor any other character XML cannot carry."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_printable), Field(json_schema_extra=_PRINTABLE_SCHEMA)]


_URL_EXAMPLE = ("https://sello-documents.s3.us-east-1.amazonaws.com/accounts/acct_9f2c4e7a1b3d5f6a8c0e/documents/"
                "doc_7h3k9m2p4r6t8v1x3z5b/001-001-000000001.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256"
                "&X-Amz-Expires=300&X-Amz-Signature=5d41402abc4b2a76b9719d91")


class FileDownload(Model):
    """The body of a download's redirect (a document's XML or PDF, an issuer's logo): where the file
    is, for clients that do not follow the redirect."""

    url: str = Field(description="A presigned URL of the file (the redirect's `Location`).",
                     examples=[_URL_EXAMPLE])
    filename: str = Field(examples=["001-001-000000001.pdf"])
    content_type: str = Field(examples=["application/pdf"])
    expires_at: datetime = Field(description="When the URL stops working.", examples=["2026-03-02T15:05:00Z"])
