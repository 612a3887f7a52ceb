"""The body of POST /v1/documents/stamp: a document signed elsewhere, as JSON with the document in
base64, or as the XML itself with the other fields as query parameters."""

from __future__ import annotations

from pydantic import Field

from sello.models.common import EmailStr, RequestBody, text

# The largest document taken, in bytes, checked before it is parsed. A CFDI of a few hundred lines is
# tens of kilobytes; Sello's own are capped at 1 MB (countries.mx.documents.MAX_DOCUMENT_BYTES), and
# so are the ones it stamps for others. (API Gateway's 10 MB and Lambda's 6 MB bound the body itself.)
MAX_EXTERNAL_BYTES = 1_000_000


class StampOptions(RequestBody):
    """What comes with the document: as query parameters when the body is the XML itself."""

    issuer_id: text(64) = Field(description="The issuer the document is issued by (see /v1/issuers); its tax id "
                                            "must be the document's.", examples=["iss_3k9v0c2m1x7q8w4e5r6t"])
    customer_email: EmailStr | None = Field(
        default=None, description="Where the authorized XML and the PDF are emailed (the document itself has no "
                                  "email); without it none is sent.", examples=["compras@example.com"])


class StampDocumentRequest(StampOptions):
    # Its size is checked once decoded (MAX_EXTERNAL_BYTES), as for an XML body.
    xml_base64: str = Field(min_length=1,
                            description="The sealed document (Mexico: a CFDI 4.0, sealed with the issuer's CSD, "
                                        "not stamped), base64-encoded.",
                            examples=["PD94bWwgdmVyc2lvbj0iMS4wIiBlbmNvZGluZz0iVVRGLTgiPz4..."])
