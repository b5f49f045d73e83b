"""Operator commands for maintenance-window-alerts: `mwalerts --help` (installed by `make dev`).

They reuse the function's own package, `mwalerts` (lambda_src/), not a copy of its logic.
"""
