"""The common syntax as a GraphQL schema: Strawberry types and resolvers, no I/O of their own.

Resolvers ask :class:`sources.registry.SourceRegistry` (through the per-request context) for
records and turn them into types; they know nothing of HTTP or SQL.
"""
