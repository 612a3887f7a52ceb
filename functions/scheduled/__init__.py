# Loaded before any handler in this package, and so before Powertools, boto3 and pydantic: importing
# sello first pauses the cyclic collector on Lambda until the handler module has loaded, and sets its
# young generation everywhere (sello/__init__.py).
import sello  # noqa: F401
