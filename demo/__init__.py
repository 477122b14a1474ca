"""Simulated partner systems of Savoie and Haute-Savoie, on one deterministic dataset.

Each partner module (``francetravail``, ``apprentissage``, ``sirene``...) has a
``create_app(latency_ms=0) -> Starlette`` that imitates the real system's shape;
``partner_servers.serve_partners`` runs them all on loopback ports for the demo and the
benchmark, and ``partners.toml`` is the gateway's configuration for them.
"""
