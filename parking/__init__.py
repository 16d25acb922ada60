"""Cashless parking: operators, lots, sessions from gate events, priced by the city's tariffs as rules.

Parking is built on the same bills, providers, ledger, receipts and reconciliation as any service charge,
so it sits above ``payments`` and ``subsidies``: a session's price comes from the subsidies engine (tariffs
are rules as data, dated, with their legal basis) and its bill goes through the one payment path.
"""
