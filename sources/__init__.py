"""The source layer: every configured partner and how the hub asks them.

The registry of partners (:mod:`sources.registry`) with each partner's deadline, bulkhead and
breaker (:mod:`sources.resilience`); the list planner and k-way merge (:mod:`sources.lists`,
cursors in :mod:`sources.list_cursor`); de-duplication across partners (:mod:`sources.merge`);
the cache by data class (:mod:`sources.cache`) and the freshness of what a request read
(:mod:`sources.freshness`). It knows nothing of HTTP or GraphQL: ``gateway`` (the HTTP edge)
and ``resolvers`` (the common syntax) sit above it, ``adapters`` and ``reference`` below.
"""
