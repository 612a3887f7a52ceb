"""A local stand-in for the SRI web services: SOAP simulator and signature verifier."""
