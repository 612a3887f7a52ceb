"""What the request models share: the base of request bodies, printable text fields, and the
page sizes of lists."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import pydantic
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints
from pydantic_core import core_schema

# The API key's environment: a test key's documents go to the authority's test service.
Environment = Literal["test", "live"]

# Characters that tax documents, email headers and PDFs cannot carry.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
_PRINTABLE_SCHEMA = {"pattern": r"^[^\u0000-\u001f\u007f]*$"}  # the same rule, as the OpenAPI document states it

# Lists come a page at a time: this many items unless the caller asks for 1 to MAX_PAGE_SIZE.
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


class EmailStr(pydantic.EmailStr):
    """pydantic's EmailStr (the same validation, errors and schema), except that email-validator,
    whose import compiles large regular expressions, loads with the first address validated instead of
    with the first model that declares one: a cold start that validates no address skips it."""

    @classmethod
    def __get_pydantic_core_schema__(cls, _source: Any, _handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(cls._validate, core_schema.str_schema())


class RequestBody(BaseModel):
    """A request body: a field it does not declare is refused (unknown_field)."""

    model_config = ConfigDict(extra="forbid")


def _printable(value: str) -> str:
    if CONTROL_CHARACTERS.search(value):
        raise ValueError("must not contain control characters (line breaks, tabs, NUL)")
    return value


def text(max_length: int, min_length: int = 1):
    """Printable text: surrounding blanks stripped, no control characters, which tax documents,
    email headers and PDFs cannot carry."""
    return Annotated[str, StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length),
                     AfterValidator(_printable), Field(json_schema_extra=_PRINTABLE_SCHEMA)]
