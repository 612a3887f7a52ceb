"""One settings model, read from the environment (the same names in Lambda, locally and in tests).

Each field is read from SELLO_<FIELD NAME> (any case); values given to the constructor win, list
values are JSON. A plain pydantic model does this: pydantic-settings would add tens of milliseconds
to every cold start (its sources import argparse, dotenv and more) for nothing used here."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from typing import Any, Literal, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

ENV_PREFIX = "SELLO_"


class Settings(BaseModel):
    model_config = ConfigDict(extra="ignore")

    table_name: str = "sello-local"
    bucket_name: str = "sello-local-documents"
    # KMS key that wraps the data keys protecting certificate private keys.
    key_id: str = "alias/sello-local-certificates"
    state_machine_arn: str = ""
    # API Gateway usage plan name by plan name (sello.plans), JSON: where accounts' usage keys go.
    # Empty (unit tests, scripts): no usage keys are made.
    usage_plans: dict[str, str] = {}
    # Secrets Manager secret (name or ARN) whose value keys the paging cursors (adapters/cursors.py).
    cursor_key_secret: str = "sello-local-cursor-key"
    sender_email: str = "no-reply@sello.local"
    # SQS queue (URL) of store orders waiting for their documents (services/store_orders.py); empty (unit
    # tests, scripts): orders are processed as they are received.
    store_orders_queue_url: str = ""
    ses_configuration_set: str = "sello-local"

    confirmation_ttl_seconds: int = Field(default=24 * 3600, gt=0)
    confirmation_max_attempts: int = Field(default=5, gt=0)
    confirmation_resend_interval_seconds: int = Field(default=60, ge=0)
    # Lifetime of the code that confirms an account's first live key (the attempts and the interval
    # between two codes are the confirmation's).
    live_activation_ttl_seconds: int = Field(default=3600, gt=0)
    certificate_warning_days: tuple[int, ...] = (30, 15, 7, 1)
    # Certification authorities trusted for live signing certificates besides those each country ships
    # (Ecuador: countries/ec/trust/): PEM files or folders of .pem/.crt/.cer files, separated by ":".
    trusted_ca_path: str = ""

    # Emails a caller can make the service send, counted in fixed windows: a document emailed again
    # (per document, and per account and environment) and certificate upload notices (per issuer, and
    # per account). Over a limit the request is refused with 429 too_many_emails and Retry-After.
    email_limit_window_seconds: int = Field(default=3600, gt=0)
    document_emails_per_document: int = Field(default=5, gt=0)
    document_emails_per_account: int = Field(default=200, gt=0)
    certificate_emails_per_issuer: int = Field(default=10, gt=0)
    certificate_emails_per_account: int = Field(default=50, gt=0)

    # Lifetime of the presigned URLs that GET /v1/documents/{id}/xml and /pdf and /v1/issuers/{id}/logo
    # redirect to.
    download_url_ttl_seconds: int = Field(default=300, gt=0, le=7 * 24 * 3600)

    # Document workflow: the waits between calls to the authority (authorization polls, and attempts to
    # send a document while the authority cannot be reached) grow from the first to the cap by the rate.
    # A document is waited for during the retry window: after reception, for the authority's decision;
    # before it, since the authority was first unreachable. Then it ends as failed (and can be retried).
    poll_first_wait_seconds: int = Field(default=5, ge=0)
    poll_max_wait_seconds: int = Field(default=900, ge=0)
    poll_backoff_rate: float = Field(default=2.0, ge=1)
    retry_window_seconds: int = Field(default=72 * 3600, gt=0)
    # A requested cancellation is followed (the authority asked with the same growing waits) this long
    # after the authority took it: SAT gives the receiver three business days to accept, which a weekend
    # and holidays stretch to six calendar days or so. Then it ends as failed (it can be requested again).
    cancellation_window_seconds: int = Field(default=7 * 24 * 3600, gt=0)

    # Ecuador (SRI). The base URL of each environment's offline web services: a test API key's documents
    # go to pruebas (celcer), a live key's to producción (cel).
    sri_test_url: str = "https://celcer.sri.gob.ec/comprobantes-electronicos-ws"
    sri_live_url: str = "https://cel.sri.gob.ec/comprobantes-electronicos-ws"
    sri_timeout_seconds: float = Field(default=20, gt=0)
    # XAdES-BES signature algorithm: SRI's ficha asks for RSA-SHA1; SHA-256 is there for when SRI accepts it.
    sri_signature_algorithm: Literal["rsa-sha1", "rsa-sha256"] = "rsa-sha1"
    # Folder holding SRI's XSD files; when set, every document is checked against its schema before it is
    # numbered or signed. Empty: schema checks are skipped (the business rules still apply).
    sri_xsd_dir: str = ""

    # Mexico: the PAC that stamps CFDIs, SW sapien (REST). A test API key's documents go to SW's sandbox,
    # a live key's to production. Each environment has two hosts: services (authentication, stamping)
    # and api (the datawarehouse a stamped CFDI is recovered from).
    sw_test_url: str = "https://services.test.sw.com.mx"
    sw_live_url: str = "https://services.sw.com.mx"
    sw_test_api_url: str = "https://api.test.sw.com.mx"
    sw_live_api_url: str = "https://api.sw.com.mx"
    sw_timeout_seconds: float = Field(default=15, gt=0)
    # SAT's public CFDI status service (Consulta, SOAP; no credentials, one URL for both environments:
    # SAT has no test one, so a CFDI stamped by a PAC's sandbox is "No Encontrado" there).
    sat_status_url: str = "https://consultaqr.facturaelectronica.sat.gob.mx/ConsultaCFDIService.svc"
    sat_status_timeout_seconds: float = Field(default=10, gt=0)
    # The SW account of each environment: a Secrets Manager secret (name or ARN) whose value is
    # "user:password" or JSON {"user": "...", "password": "..."}, read once per warm function...
    sw_test_credentials_secret: str = ""
    sw_live_credentials_secret: str = ""
    # ...or, for the local stack and tests only, that value itself (it wins over the secret). Never
    # shown by repr() or in logs.
    sw_test_credentials: SecretStr = SecretStr("")
    sw_live_credentials: SecretStr = SecretStr("")

    # Outgoing events (webhook endpoints). The local stack sets the first to let events go to plain
    # http on a loopback address (a receiver on the same machine); deployed, only public https URLs.
    webhook_allow_loopback_http: bool = False
    webhook_timeout_seconds: float = Field(default=10, gt=0, le=30)
    webhook_response_excerpt_bytes: int = Field(default=512, ge=0, le=4096)
    # The SQS queue of pending deliveries. Empty: events are recorded (GET /v1/events) but not sent.
    events_queue_url: str = ""
    # Where a delivery goes once its retry window has passed (the delivery function's dead-letter queue).
    events_dead_letter_url: str = ""

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        environment = {name.upper(): value for name, value in os.environ.items()}
        found = {}
        for name, field in cls.model_fields.items():
            value = environment.get(ENV_PREFIX + name.upper())
            if value is None:
                continue
            if get_origin(field.annotation) in (tuple, list, dict):
                try:
                    value = json.loads(value)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{name.upper()} must be JSON") from None
            found[name] = value
        return {**found, **data}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
