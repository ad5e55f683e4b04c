"""The PostgreSQL database backend of the platform: Django's, with work run just before
COMMIT (yiwang/core/db.py)."""
