"""Mexico: CFDI 4.0 through a PAC (authorized certification provider)."""
