"""Exceptions that carry a message meant for the person running sccop."""

from __future__ import annotations


class SccopInputError(ValueError):
    """Bad user input: the message names the problem in one line (CLI exit status 2)."""


class SccopRunError(RuntimeError):
    """The run cannot go on for a reason outside its input (a cluster that starts no worker, a server that
    is gone); the message says why in one line (CLI exit status 1). What was stored stays stored."""


class NoWyckoffCombinationError(SccopInputError):
    """A composition fits no Wyckoff assignment in the allowed groups."""
