"""Domain logic of the maintenance-window alerting Lambda; handler.py is its thin entry point."""
