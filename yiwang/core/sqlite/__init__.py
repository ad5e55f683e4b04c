"""The SQLite database backend of the platform: Django's, with write transactions queued in
arrival order and work run just before COMMIT (base.py)."""
