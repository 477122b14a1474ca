"""The gateway's own database: API clients, idempotency records and the audit trail.

It holds nothing a partner owns. The schema is created and changed by the Alembic migrations
shipped in :mod:`store.migrations` only (:func:`store.migrate.upgrade`), never by
``metadata.create_all``, so every deployment's schema has one history.
"""
