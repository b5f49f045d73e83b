"""Developer tools of maintenance-window-alerts (not deployed)."""
