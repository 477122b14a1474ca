"""The gateway database's Alembic migrations: one revision per change, applied in order.

A later table (idempotency records, audit events) is a new file in ``versions/`` whose
``down_revision`` is the current head; nothing here changes.
"""
