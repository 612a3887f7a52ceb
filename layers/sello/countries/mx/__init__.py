"""Mexico: CFDI 4.0 issued with SAT certificates and stamped by a PAC."""
