"""What API Gateway answers by itself, part of the catalog (sello.catalog)."""

# What API Gateway answers by itself, before or instead of a function, by gateway response type:
# (status, code, message). infra/api.py declares them as gateway responses and the local gateway
# answers with them. A None status keeps API Gateway's own; a None message is its own text
# ($context.error.messageString). `$context.authorizer.<key>` is that value of the context the
# authorizer answered with, which API Gateway puts in (empty when the context has no such key).
GATEWAY_ERRORS: dict[str, tuple[int | None, str, str | None]] = {
    "UNAUTHORIZED": (401, "unauthorized", "A valid API key is required."),
    # A Deny says why in its context: functions/api/authorizer.py sets both (e.g. api_key_revoked).
    "ACCESS_DENIED": (403, "$context.authorizer.error_code", "$context.authorizer.error_message"),
    # REST APIs answer a path or method no resource has with this one (a 403 by default).
    "MISSING_AUTHENTICATION_TOKEN": (404, "route_not_found", "No such route."),
    "REQUEST_TOO_LARGE": (413, "payload_too_large", "The request is too large."),
    # Over the per-key throttle of the account's plan, a public route's or the stage's (sello.plans).
    "THROTTLED": (429, "too_many_requests", "Too many requests; retry later."),
    "QUOTA_EXCEEDED": (429, "quota_exceeded",
                       "The request quota of this account's plan is used up until the next period starts."),
    # The authorizer function failed (raised something other than "Unauthorized") or answered
    # something that is not a policy.
    "AUTHORIZER_FAILURE": (500, "authorizer_failure", "The API key could not be checked; retry later."),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, "authorizer_failure",
                                       "The API key could not be checked; retry later."),
    "DEFAULT_4XX": (None, "bad_request", None),
    "DEFAULT_5XX": (None, "gateway_error", None),
}
