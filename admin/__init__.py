"""The back office: finance (transactions, reconciliation, reports), policy (rules, simulation, approvals)
and system administration (staff, roles, API clients, audit). Flask lives here and in ``gateway`` only."""
