"""Request bodies whose shape is the country's: the document (by its issuer's country), the issuer (by
its `country`) and the certificate upload (by its issuer's country).

The API functions declare each body as a type here: at run time it hands the body on as sent (after
the resolver's checks of its size, type, JSON and characters), and the service validates it with the
country plugin's model (sello.validation.validate_body, the same 422 answer as any body); in the
OpenAPI document it is shown as every supported country's schemas. Nothing here imports a plugin
before a schema is asked for, so a function's cold start builds no model it does not use.

The OpenAPI shape, chosen for Swagger UI and for OpenAPI 3.1's JSON Schema:

- A document body is a `oneOf` of the countries, each titled with its name, and each a `oneOf` of its
  document types discriminated by `type` (one schema per type, titled "<country> · <type>", with the
  parts the type needs and an example). `type` alone cannot discriminate across countries (an
  Ecuadorian and a Mexican invoice are both `invoice`), and no field of the body names the country:
  the issuer does. So the outer level has no discriminator (the countries' schemas forbid each
  other's fields, so a body fits one of them), the inner one keeps it: Swagger UI lists the countries and,
  within one, its types; Redoc and code generators still see each country's union as discriminated.
  With one country the body is that country's union alone, as before the second one came.
- An issuer body is a `oneOf` of the countries' issuer schemas, discriminated by `country`, which is
  in the body; with one country, its schema alone.
- A certificate upload shows, for multipart/form-data and for JSON alike, a `oneOf` of the countries'
  forms, each titled with the country and its file format; with one country, its forms alone."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import ConfigDict, Field, GetCoreSchemaHandler, GetJsonSchemaHandler, TypeAdapter
from pydantic_core import CoreSchema, core_schema

from sello.countries import CountryPlugin, get_plugin, supported_countries
from sello.models.common import RequestBody
from sello.models.issuers import CountryCode


def _plugins() -> list[CountryPlugin]:
    return [get_plugin(country) for country in supported_countries()]


def _one_of(schemas: list[dict[str, Any]], **outer: Any) -> dict[str, Any]:
    """The schemas as one `oneOf` (with `outer` beside it), or the only one as it is."""
    return schemas[0] if len(schemas) == 1 else {"oneOf": schemas, **outer}


def _ref(model: type, handler: GetJsonSchemaHandler) -> dict[str, Any]:
    """A reference to the model's schema among the document's schemas (a model alone at the top of a
    schema would be written out in place; one inside another schema is referenced)."""
    return handler(TypeAdapter(list[model]).core_schema)["items"]


class _AsSent:
    """A body the route hands on as sent, shown in JSON schemas as `schema(handler)` says."""

    def __init__(self, schema):
        self.schema = schema

    def __get_pydantic_core_schema__(self, _source: Any, _handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.any_schema()

    def __get_pydantic_json_schema__(self, _core_schema: Any,
                                     handler: GetJsonSchemaHandler) -> dict[str, Any]:
        return self.schema(handler)


# Documents ------------------------------------------------------------------------------------------

def issuer_id_of(body: Any) -> str | None:
    """What the API reads of a document body before it knows the issuer's country: the issuer's id, as
    the countries' models take it (blanks around it stripped), when the body has one that is text.
    The rest, `issuer_id` and `type` included, is the country's model's to validate (each lists its
    own types); an id that is not an issuer's finds none."""
    value = body.get("issuer_id") if isinstance(body, dict) else getattr(body, "issuer_id", None)
    return value.strip() if isinstance(value, str) else None


def document_variants_schema(plugin: CountryPlugin, handler: GetJsonSchemaHandler) -> dict[str, Any]:
    """A country's document types as a union discriminated by `type` (its document_request_variants);
    a country of one type, that type's schema."""
    variants = tuple(plugin.document_request_variants.values())
    if len(variants) == 1:
        return _ref(variants[0], handler)
    union = Annotated[Union[variants], Field(discriminator="type")]  # noqa: UP007 (a tuple of types)
    return handler(TypeAdapter(union).core_schema)


def _documents_schema(handler: GetJsonSchemaHandler) -> dict[str, Any]:
    schemas = [{"title": plugin.name, **document_variants_schema(plugin, handler)} for plugin in _plugins()]
    if len(schemas) == 1:
        del schemas[0]["title"]
    return _one_of(schemas)


# The body of POST /v1/documents.
DocumentBody = Annotated[Any, _AsSent(_documents_schema)]


def _cancel_schema(handler: GetJsonSchemaHandler) -> dict[str, Any]:
    models = [plugin.cancel_request_model for plugin in _plugins() if plugin.cancel_request_model is not None]
    return _one_of([_ref(model, handler) for model in models])


# The body of POST /v1/documents/{id}/cancel: the document's country's cancel_request_model.
CancelBody = Annotated[Any, _AsSent(_cancel_schema)]


# Issuers --------------------------------------------------------------------------------------------

class IssuerEnvelope(RequestBody):
    """What the API reads of an issuer body first: its country, which chooses the model of the rest."""

    model_config = ConfigDict(extra="ignore", defer_build=True)

    country: CountryCode


def _issuers_schema(handler: GetJsonSchemaHandler) -> dict[str, Any]:
    plugins = _plugins()
    refs = [_ref(plugin.issuer_request_model, handler) for plugin in plugins]
    mapping = {plugin.code: ref["$ref"] for plugin, ref in zip(plugins, refs, strict=True)}
    return _one_of(refs, discriminator={"propertyName": "country", "mapping": mapping})


# The body of POST /v1/issuers.
IssuerBody = Annotated[Any, _AsSent(_issuers_schema)]


# Certificates -----------------------------------------------------------------------------------------

def _form_schema(plugin: CountryPlugin) -> dict[str, Any]:
    upload = plugin.certificate_upload
    fields = upload.form_model.model_fields
    files = {f.name: {"type": "string", "format": "binary", "description": fields[f.name].description or ""}
             for f in upload.files}
    return {"type": "object", "required": [*files, "password"],
            "properties": {**files, "password": {"type": "string", "format": "password",
                                                 "examples": ["clave-del-certificado"]},
                           "notification_email": {"type": "string", "format": "email",
                                                  "examples": ["facturacion@example.com"]}}}


def certificate_upload_body() -> dict[str, Any]:
    """The request body of PUT /v1/issuers/{id}/certificate in the OpenAPI document: each country's
    form and JSON body (inline: they have no nested models)."""
    plugins = _plugins()
    titles = [f"{plugin.name}: {plugin.certificate_upload.title}" for plugin in plugins]

    def each(schema) -> dict[str, Any]:
        schemas = [schema(plugin) for plugin in plugins]
        if len(schemas) > 1:
            schemas = [{**s, "title": title} for s, title in zip(schemas, titles, strict=True)]
        return _one_of(schemas)

    def json_schema(plugin: CountryPlugin) -> dict[str, Any]:
        return plugin.certificate_upload.json_model.model_json_schema()

    return {"required": True, "content": {"multipart/form-data": {"schema": each(_form_schema)},
                                          "application/json": {"schema": each(json_schema)}}}
