"""Ecuador: SRI's offline electronic-invoicing scheme."""

from sello.countries.ec.plugin import plugin

__all__ = ["plugin"]
