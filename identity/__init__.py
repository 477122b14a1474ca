"""Who asks: API keys, JWT bearer tokens, the principal they give, and the hub's signed
principal assertion for partners.

:mod:`identity.principal` is all the layers above need (resolvers and sources read a
:class:`~identity.principal.Principal`, never a credential); the gateway's edge authenticates
with :mod:`identity.authenticate`.
"""
