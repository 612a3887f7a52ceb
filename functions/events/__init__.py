# Loaded before any handler in this package, and so before Powertools, boto3 and pydantic: importing
# sello first sets the collector's young generation (sello/__init__.py) for the whole cold start.
import sello  # noqa: F401
