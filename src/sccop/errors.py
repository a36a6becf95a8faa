"""Exceptions that carry a message meant for the person running sccop."""

from __future__ import annotations


class SccopInputError(ValueError):
    """Bad user input: the message names the problem in one line (CLI exit status 2)."""


class NoWyckoffCombinationError(SccopInputError):
    """A composition fits no Wyckoff assignment in the allowed groups."""
