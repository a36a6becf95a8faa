"""What a setting may hold, declared once beside its description (sccop.config) and checked whenever a
config is built, from TOML, the command line or Python.

An `Allowed` is a kind (whole number, number, flag, text, or a list of one of those), a range or a set of
values, and whether None is allowed. `check(value)` returns the value as the setting keeps it (a whole
number where a number is asked for becomes a float, a list becomes a tuple) or raises SccopInputError
with one line naming the setting, the value and what is allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from sccop.errors import SccopInputError

KINDS = ("int", "float", "bool", "str", "range", "ints", "floats", "strs", "pairs")
RANGE = r"\s*\d+\s*(-\s*\d+\s*)?"


@dataclass(frozen=True)
class Allowed:
    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # the low end itself is not allowed
    choices: tuple = ()
    pattern: str | None = None  # a regular expression a text must match whole
    hint: str = ""  # how the pattern reads to a person
    optional: bool = False  # None is allowed
    nonempty: bool = False  # a list needs at least one item
    blank: bool = False  # an empty text is allowed (it means: not given)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"unknown kind {self.kind!r}")

    def describe(self) -> str:
        """What is allowed, in words: `a whole number from 1 to 500`, `one of fire, bfgs`."""
        what = {"int": "a whole number", "float": "a number", "bool": "true or false", "str": "a text",
                "range": "a whole number N or a range A-B of them",
                "ints": "a list of whole numbers", "floats": "a list of numbers", "strs": "a list of texts",
                "pairs": "a list of [text, text] pairs"}[self.kind]
        if self.choices:
            what = "one of " + ", ".join(map(str, self.choices))
        elif self.pattern:
            what = f"{what} like {self.hint}"
        if self.low is not None or self.high is not None:
            each = " each" if self.kind in ("ints", "floats") else ""
            if self.low is not None and self.high is not None:
                what += f"{each} {'above' if self.low_open else 'from'} {_num(self.low)} {'up ' if self.low_open else ''}to {_num(self.high)}"
            elif self.low is not None:
                what += f"{each} {'above' if self.low_open else 'at least'} {_num(self.low)}"
            else:
                what += f"{each} at most {_num(self.high)}"
        if self.nonempty:
            what += ", not empty"
        if self.optional:
            what += " (or left out)"
        return what

    def check(self, value, name: str):
        """`value` as the setting keeps it; SccopInputError naming `name` when it is not allowed."""
        if value is None:
            if self.optional:
                return None
            self._refuse(name, value)
        if self.kind in ("ints", "floats", "strs", "pairs"):
            if not isinstance(value, (list, tuple)) or (self.nonempty and not value):
                self._refuse(name, value)
            item = Allowed({"ints": "int", "floats": "float", "strs": "str", "pairs": "str"}[self.kind], self.low,
                           self.high, self.low_open, self.choices, self.pattern, self.hint)
            try:
                if self.kind == "pairs":
                    if not all(isinstance(p, (list, tuple)) and len(p) == 2 for p in value):
                        raise SccopInputError("not a pair")
                    return tuple((item._scalar(a, name, value), item._scalar(b, name, value)) for a, b in value)
                return tuple(item._scalar(v, name, value) for v in value)
            except SccopInputError:  # say what the whole list must be
                self._refuse(name, value)
        return self._scalar(value, name, value)

    def _scalar(self, value, name: str, shown):
        kind = self.kind
        if kind == "bool":
            if not isinstance(value, bool):
                self._refuse(name, shown)
            return value
        if kind == "range":  # 8, "8" or "4-8"
            if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
                return str(value)
            if not isinstance(value, str) or not re.fullmatch(RANGE, value):
                self._refuse(name, shown)
            return value.strip()
        if kind == "str":
            if not isinstance(value, str) or (self.choices and value not in self.choices) or (
                    self.pattern and not re.fullmatch(self.pattern, value)) or (not value.strip() and not self.blank):
                self._refuse(name, shown)
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self._refuse(name, shown)
        if kind == "int":
            if isinstance(value, float):
                self._refuse(name, shown)
        elif not math.isfinite(value):
            self._refuse(name, shown)
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            self._refuse(name, shown)
        if self.high is not None and value > self.high:
            self._refuse(name, shown)
        if self.choices and value not in self.choices:
            self._refuse(name, shown)
        return float(value) if kind == "float" else int(value)

    def _refuse(self, name: str, value):
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise SccopInputError(f"{name} = {shown} is not allowed: it must be {self.describe()}")


def _num(x: float) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def integer(low: int | None = None, high: int | None = None, *, choices: tuple = (), optional: bool = False) -> Allowed:
    return Allowed("int", low, high, choices=tuple(choices), optional=optional)


def number(low: float | None = None, high: float | None = None, *, above: bool = False, optional: bool = False) -> Allowed:
    """A finite number in [low, high] (`above`: low itself excluded)."""
    return Allowed("float", low, high, low_open=above, optional=optional)


def flag() -> Allowed:
    return Allowed("bool")


def text(*, choices: tuple = (), pattern: str | None = None, hint: str = "", optional: bool = False,
         blank: bool = False) -> Allowed:
    return Allowed("str", choices=tuple(choices), pattern=pattern, hint=hint, optional=optional, blank=blank)


def cell_range(*, optional: bool = True) -> Allowed:
    """A cell size: a whole number N or a range "A-B"."""
    return Allowed("range", optional=optional)


def integers(low: int | None = None, high: int | None = None, *, optional: bool = False, nonempty: bool = False) -> Allowed:
    return Allowed("ints", low, high, optional=optional, nonempty=nonempty)


def numbers(low: float | None = None, high: float | None = None, *, above: bool = False, nonempty: bool = False) -> Allowed:
    return Allowed("floats", low, high, low_open=above, nonempty=nonempty)


def texts() -> Allowed:
    return Allowed("strs")


def pairs() -> Allowed:
    return Allowed("pairs")


__all__ = ["Allowed", "integer", "number", "flag", "text", "cell_range", "integers", "numbers", "texts", "pairs"]
