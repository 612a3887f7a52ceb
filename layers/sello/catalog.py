"""The one table that says which Lambda function serves which API path, and how the shared
resources are named and shaped. The CDK app and the local stack both read it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# The table's shape and API Gateway's own answers are the catalog's too, in modules of their own so that
# a function's adapters and error handling load them without the rest.
from sello.gateway_errors import GATEWAY_ERRORS  # noqa: F401
from sello.plans import RETRY_AFTER_SECONDS
from sello.table import TABLE, TableSpec  # noqa: F401


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    handler: str  # module path inside functions/, then ".handler"
    description: str
    # API paths served, each also with /{proxy+} below it unless another prefix of the function is a
    # path variable right below it (API Gateway allows one variable part per level, {proxy+} included)
    prefixes: tuple[str, ...] = ()
    memory_mb: int = 512
    timeout_s: int = 29
    schedule: str | None = None  # scheduled functions: an EventBridge schedule expression
    paths: tuple[str, ...] = ()  # single API paths served, nothing below them (each a public GET route)
    # (method, resource) served without an API key, nothing below them; the resource may hold path
    # variables ({name}), and is a fixed child beside the other function's variable part
    public: tuple[tuple[str, str], ...] = ()


API_FUNCTIONS = (
    FunctionSpec("accounts", "api.accounts.handler", "Sign-up, confirmation and API keys",
                 prefixes=("/v1/accounts", "/v1/api-keys")),
    FunctionSpec("issuers", "api.issuers.handler", "Issuers and their signing certificates",
                 prefixes=("/v1/issuers",)),
    FunctionSpec("documents", "api.documents.handler", "Documents: issue, read, download and email again",
                 prefixes=("/v1/documents",)),
    # /v1/integrations/{integration_id} is a resource of its own so that the stores' inbound URL below it
    # can be a fixed child served by another function.
    FunctionSpec("integrations", "api.integrations.handler", "Store integrations: connections and their orders",
                 prefixes=("/v1/integrations", "/v1/integrations/{integration_id}")),
    # A store's webhook deliveries: the store signs the raw body with the integration's secret, and has
    # no API key (functions/integrations/inbound.py).
    FunctionSpec("store_inbound", "integrations.inbound.handler", "Receives the signed webhooks of stores",
                 public=(("POST", "/v1/integrations/{integration_id}/inbound"),)),
    FunctionSpec("webhooks", "api.webhooks.handler", "Webhook endpoints, events and their deliveries",
                 prefixes=("/v1/webhook-endpoints", "/v1/events")),
    # What the API's address answers, without a key: its index, the OpenAPI document, the Swagger UI.
    FunctionSpec("docs", "api.docs.handler", "The API's index, its OpenAPI document and the Swagger UI",
                 paths=("/", "/v1", "/openapi.json", "/docs", "/docs/swagger-ui-bundle.min.js",
                        "/docs/swagger-ui.min.css")),
)
AUTHORIZER = FunctionSpec("authorizer", "api.authorizer.handler", "API key authorizer", memory_mb=256, timeout_s=10)
SCHEDULED_FUNCTIONS = (
    # 13:00 UTC is 08:00 in Ecuador: warnings arrive at the start of the working day.
    FunctionSpec("certificate_expiry", "scheduled.certificate_expiry.handler",
                 "Daily warnings for certificates about to expire", timeout_s=300,
                 schedule="cron(0 13 * * ? *)"),
    FunctionSpec("workflow_restart", "scheduled.workflow_restart.handler",
                 "Starts the workflow of documents stored while it could not be started", timeout_s=240,
                 schedule="rate(5 minutes)"),
)

# Store orders (services/store_orders.py): the worker consumes the queue the inbound endpoint and the
# retry route fill.
STORE_FUNCTIONS = (
    FunctionSpec("store_worker", "integrations.worker.handler", "Issues the documents of queued store orders",
                 timeout_s=120),
)

# Outgoing events: the consumer of the deliveries queue (infra/events.py). One try waits at most
# settings.webhook_timeout_seconds (10 s by default) per network step; a batch holds a few tries.
EVENT_FUNCTIONS = (
    FunctionSpec("deliver", "events.deliver.handler", "Delivers signed events to webhook endpoints",
                 timeout_s=120),
)

# Step Functions tasks, one function each; the ASL refers to them as ${fn_<name>}.
WORKFLOW_FUNCTIONS = (
    FunctionSpec("sign", "workflow.sign.handler", "Builds and signs the document", memory_mb=1024),
    # The authority's calls time out after settings.sri_timeout_seconds (SW: sw_timeout_seconds) per
    # phase (connecting, sending, reading), so these two get room for several phases; a stamp at the
    # PAC may take up to five calls (authenticate again, stamp, recover a previous stamp and download it).
    FunctionSpec("submit", "workflow.submit.handler", "Submits the signed document to the authority",
                 timeout_s=120),
    FunctionSpec("poll", "workflow.poll.handler", "Asks the authority for the authorization", timeout_s=60),
    FunctionSpec("render", "workflow.render.handler", "Renders and stores the printable PDF"),
    FunctionSpec("notify", "workflow.notify.handler", "Emails the customer the XML and the PDF"),
    FunctionSpec("finish", "workflow.finish.handler", "Records the final status of a document"),
    # A document's cancellation (the same state machine, input `"action": "cancel"`).
    FunctionSpec("cancel", "workflow.cancel.handler", "Sends a signed cancellation request to the authority",
                 memory_mb=1024, timeout_s=120),
    FunctionSpec("cancellation_status", "workflow.cancellation_status.handler",
                 "Asks the authority how far a cancellation has come", timeout_s=60),
    FunctionSpec("cancellation_finish", "workflow.cancellation_finish.handler",
                 "Renders the cancelled PDF, emails the final state and records it"),
)

# Routes that need no API key (everything else goes through the authorizer).
PUBLIC_ROUTES = (
    ("POST", "/v1/accounts"),
    ("POST", "/v1/accounts/confirm"),
    ("POST", "/v1/accounts/resend-confirmation"),
    *(("GET", path) for spec in API_FUNCTIONS for path in spec.paths),
    *(route for spec in API_FUNCTIONS for route in spec.public),
)


@cache
def _pattern(resource: str) -> re.Pattern[str]:
    """A resource template as a regular expression: {name} is one path segment, {name+} the rest."""
    parts = re.split(r"\{(\w+)(\+?)\}", resource)
    regex = "".join(re.escape(part) if i % 3 == 0 else
                    (f"(?P<{part}>.+)" if parts[i + 1] else f"(?P<{part}>[^/]+)") if i % 3 == 1 else ""
                    for i, part in enumerate(parts))
    return re.compile(regex)


def path_parameters(resource: str, path: str) -> dict[str, str] | None:
    """The path parameters of `path` as API Gateway gives them for `resource`; None when it does not
    match. A template matches itself as well (a variable's own `{name}` is a segment)."""
    found = _pattern(resource).fullmatch(path)
    return found.groupdict() if found else None


def resources(spec: FunctionSpec) -> tuple[str, ...]:
    """The API Gateway resources that lead to `spec`, fixed ones before those with {proxy+}."""
    fixed = (*spec.prefixes, *spec.paths, *(path for _, path in spec.public))
    proxies = tuple(f"{prefix}/{{proxy+}}" for prefix in spec.prefixes
                    if not any(re.fullmatch(re.escape(prefix) + r"/\{\w+\}", other) for other in spec.prefixes))
    return (*dict.fromkeys(fixed), *proxies)


def function_for_path(path: str) -> FunctionSpec | None:
    """The function serving `path` (a request's path or a resource template); fixed resources and
    public routes win over the prefixes that hold them."""
    for spec in API_FUNCTIONS:
        if path in spec.paths or any(path_parameters(public, path) is not None for _, public in spec.public):
            return spec
    for spec in API_FUNCTIONS:
        for prefix in spec.prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return spec
    return None


def is_public(method: str, path: str) -> bool:
    path = path.rstrip("/") or "/"
    return any(method.upper() == public_method and path_parameters(public, path) is not None
               for public_method, public in PUBLIC_ROUTES)


def function_name(stage: str, name: str) -> str:
    """A function's physical name (FunctionSpec.name within the stage)."""
    return f"sello-{stage}-{name}"


def resource_names(stage: str, account: str) -> dict[str, str]:
    """Physical names shared by the CDK app and the local stack."""
    return {
        "table": f"sello-{stage}",
        "bucket": f"sello-{stage}-documents-{account}",
        "key_alias": f"alias/sello-{stage}-certificates",
        "state_machine": f"sello-{stage}-documents",
        "configuration_set": f"sello-{stage}",
    }


# Headers of those answers (static values, as API Gateway allows): a 429 says when to retry.
GATEWAY_HEADERS: dict[str, dict[str, str]] = {
    response_type: {"Retry-After": str(seconds)} for response_type, seconds in RETRY_AFTER_SECONDS.items()}

# Request bodies of these types reach the functions base64-encoded (isBase64Encoded); any other
# body is passed as UTF-8 text. Certificates and logos come as multipart/form-data or as the file
# itself; a raw PKCS#12, image or byte stream stays intact until the function answers it. No
# function answers with a file: documents' XML and PDF and issuers' logos come from S3, behind a
# redirect (sello.http.file_redirect), so that their bytes do not depend on Accept.
BINARY_MEDIA_TYPES = ("multipart/form-data", "application/octet-stream", "application/x-pkcs12",
                      "image/png", "image/jpeg")
