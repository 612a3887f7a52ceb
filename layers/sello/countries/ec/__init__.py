"""Ecuador: SRI's offline electronic-invoicing scheme."""
