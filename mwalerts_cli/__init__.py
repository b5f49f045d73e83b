"""Operator commands for maintenance-window-alerts: `mwalerts --help` (installed with the
distribution, or by `make dev` in a checkout).

They reuse the function's own package, `mwalerts` (its pipeline, contract and SSM reads), not a
copy of its logic.
"""
