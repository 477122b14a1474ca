"""Errors a client sees, each with a stable ``extensions.code``."""

from __future__ import annotations

from graphql import GraphQLError

BAD_USER_INPUT = "BAD_USER_INPUT"


class BadUserInput(GraphQLError):
    """An argument that fails validation: nothing is sent to any partner, nothing changes.

    The message names the argument and the rule, never the value (it may be personal).
    """

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(
            f"Invalid value for `{argument}`: {message}",
            extensions={"code": BAD_USER_INPUT, "argument": argument},
        )
        self.argument = argument
