"""Reconciliation: read provider and bank reports, match them to the ledger, and work the breaks.

The readers (``camt053``, ``swift_mt940``, ``vn_bank``, ``stripe_reports``, ``vnpay_settlement``) are pure
functions from bytes to ``ParsedFile``: every line normalised to integer minor units with its source row,
and a malformed file rejected whole with the row and the reason.
"""
