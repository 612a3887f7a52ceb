"""The version of Sello the API reports (its index, its OpenAPI document): the project's version in
pyproject.toml, which a test keeps equal. The Lambda layer carries the package without its
installation metadata, so it cannot be read from there."""

VERSION = "0.1.0"
