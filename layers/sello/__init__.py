"""Sello: serverless electronic invoicing."""
