"""Adapters: one module per KIND of partner system, driven by a declarative mapping.

Nothing here knows GraphQL. An adapter turns a partner's records into :class:`Record` objects
of the common syntax and reports failures as :mod:`adapters.errors`.
"""
