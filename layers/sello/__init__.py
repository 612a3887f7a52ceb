"""Sello: serverless electronic invoicing."""

import gc
import os

# Loading a function's modules allocates a few hundred thousand objects that live as long as the
# function (pydantic's validators and schemas, botocore's service models), none of them garbage, and
# the cyclic collector scans them again and again while they load: with CPython's default thresholds
# (700 or, from 3.13, 2,000 allocations) a tenth to a sixth of a cold start's imports, and still about
# a twelfth with a young generation of 50,000. So on Lambda (which sets AWS_LAMBDA_FUNCTION_NAME) the
# collector is paused from the moment a function's package imports sello, before anything else
# (functions/*/__init__.py), until its handler module has loaded (`loaded()`, its last line). Then what
# was loaded is set aside for good (gc.freeze: later collections never scan it again) and the
# collector runs with a young generation of 50,000, a few times per request at most. Elsewhere (tests,
# the local stack, scripts) it is never paused, only given that young generation.
YOUNG_GENERATION = 50_000
if gc.get_threshold()[0] < YOUNG_GENERATION:
    gc.set_threshold(YOUNG_GENERATION, *gc.get_threshold()[1:])
if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
    gc.disable()


def loaded() -> None:
    """The end of a function's loading (the last line of each handler module): the collector runs again,
    without what was loaded so far. Nothing to do where it was not paused."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()
