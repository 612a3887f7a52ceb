"""What a certificate upload is made of, for PUT /v1/issuers/{id}/certificate: a country's files
(`CertificateUpload`, its plugin's `certificate_upload`), each as a form field and as a JSON field
in base64, and a file as it came (`UploadedFile`), for the plugin's `load_credentials`. Apart from
models.certificates so that only the functions that take uploads load it."""

from __future__ import annotations

from dataclasses import dataclass

from sello.models.certificate_api import UploadCertificateForm, UploadCertificateRequest
from sello.models.common import RequestBody


@dataclass(frozen=True)
class CertificateFile:
    """One file of an upload: its multipart/form-data field and its JSON field (the file in base64)."""

    name: str  # the form field, and the file's name for the country's load_credentials, e.g. "certificate"
    json_name: str  # e.g. "p12_base64"


@dataclass(frozen=True)
class CertificateUpload:
    """What PUT /v1/issuers/{id}/certificate takes for a country: its files (the first is the
    certificate: problems with the certificate itself are reported at its path) and the two body
    models, each with those files (as bytes in the form, base64 in JSON), `password` and
    `notification_email`. `title` names the format in the OpenAPI document."""

    title: str
    files: tuple[CertificateFile, ...]
    json_model: type[RequestBody]
    form_model: type[RequestBody]

    @property
    def form_files(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.files)


@dataclass(frozen=True)
class UploadedFile:
    """A file as it came in an upload, with where it came (the form or JSON field) for errors."""

    data: bytes
    path: str


# The neutral format, Ecuador's: a PKCS#12 file with the key, its certificate and the chain.
PKCS12_UPLOAD = CertificateUpload(
    title="PKCS#12 (.p12/.pfx)", files=(CertificateFile("certificate", "p12_base64"),),
    json_model=UploadCertificateRequest, form_model=UploadCertificateForm)
