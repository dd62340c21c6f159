"""Finishing what a crash or an unknown outcome left open (`_payments`), and comparing the ledger
with the providers' own records for a period (`_records`)."""
