"""Sello: serverless electronic invoicing."""

import gc

# Loading a function's modules allocates a few hundred thousand objects that live as long as the
# function (pydantic's validators and schemas, botocore's service models). With CPython's default
# thresholds (700 or, from 3.13, 2,000 allocations) the cyclic collector runs hundreds of times while
# they load and scans the older ones again and again, with nothing to free: a tenth to a sixth of a
# cold start's imports. A first generation of 50,000 still collects, a few times instead.
YOUNG_GENERATION = 50_000
if gc.get_threshold()[0] < YOUNG_GENERATION:
    gc.set_threshold(YOUNG_GENERATION, *gc.get_threshold()[1:])
