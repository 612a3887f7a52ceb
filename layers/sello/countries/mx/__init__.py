"""Mexico: CFDI 4.0, sealed by the issuer with its CSD and stamped by an authorized certifier (PAC).

The fiscal core is a set of plain modules, each importable on its own:

- rfc: the RFC (tax id): normalisation, check digit, persona moral or física.
- catalogs: SAT's catalogs as satcfdi bundles them (a read-only SQLite file), plus the rules SAT
  publishes beside them (which person types and régimenes may use each régimen and uso CFDI).
- issuer: what a Mexican issuer adds to the common issuer (régimen, fiscal zip, branches with
  their series), and the small issuer input `documents.prepare` takes.
- requests: the document requests (invoice, credit note, global invoice), one schema per type.
- amounts: SAT's arithmetic (line amounts, taxes, summaries, totals) in one place.
- documents: `prepare` (every offline check, before a number is taken) and `number`.
- csd: the SAT certificate pair (.cer/.key): a CSD, not an e.firma; its RFC, number and trust.
- pac: the PAC port and its SW Sapien adapter (stamp, recover).
- cfdi: the CFDI built from a prepared document, sealed with the CSD and checked against the XSD.
"""
