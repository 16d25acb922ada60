"""Moving money: bills, the payment state machine, providers (one per file), the ledger, refunds, receipts.

Flask-free: functions take a SQLAlchemy session and plain values.
"""
