"""Checks for request values: each limit converts a raw value (from a widget, a link or JSON) or raises RequestError.

A family's requests.py keeps every limit it has in one table of these, which the README's "Limits and guarantees"
section is checked against (tests/test_resources.py).
"""
import math
from dataclasses import dataclass

from genmodels.errors import RequestError

MAX_TEXT_CHARS = 20_000  # prompts and texts to score; a prompt longer than the context is cut from the left
MAX_SEED = 2**31 - 1


def number(value, name: str, low: float, high: float, integer: bool = False) -> float | int:
    """`value` as a finite number in [low, high] (an int if `integer`), else a RequestError naming the limits."""
    if isinstance(value, bool) or value is None or value == "":
        raise RequestError(f"{name} must be a number between {low:g} and {high:g}.")
    try:
        number_value = float(value)
    except (TypeError, ValueError, OverflowError):
        raise RequestError(f"{name} must be a number between {low:g} and {high:g}, not {str(value)[:40]!r}.") from None
    if not math.isfinite(number_value) or not low <= number_value <= high:
        raise RequestError(f"{name} must be between {low:g} and {high:g} (got {str(value)[:40]}).")
    if integer:
        if number_value != int(number_value):
            raise RequestError(f"{name} must be a whole number (got {number_value:g}).")
        return int(number_value)
    return number_value


def text(value, name: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """`value` as valid Unicode of at most `max_chars` characters (None counts as empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise RequestError(f"{name} must be text.")
    if len(value) > max_chars:
        raise RequestError(f"{name} is {len(value):,} characters; the limit is {max_chars:,}.")
    return value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates are not text: they become "?"


def choice(value, name: str, options) -> str:
    """`value` if it is one of `options`, else a RequestError listing them."""
    if not isinstance(value, str) or value not in options:
        raise RequestError(f"{name} must be one of {', '.join(options)}.")
    return value


@dataclass(frozen=True)
class Bound:
    """A number's limit: its name in messages, its range, whole numbers or not."""
    name: str
    low: float
    high: float
    integer: bool = False

    def check(self, value, high: float | None = None) -> float | int:
        """`value` converted and range-checked; `high` narrows the top for a bound set by the model (top-k)."""
        return number(value, self.name, self.low, self.high if high is None else min(high, self.high), self.integer)


@dataclass(frozen=True)
class Text:
    """A text's limit: its name in messages and its length."""
    name: str
    max_chars: int = MAX_TEXT_CHARS

    def check(self, value) -> str:
        return text(value, self.name, self.max_chars)


@dataclass(frozen=True)
class Choice:
    """A choice among fixed options."""
    name: str
    options: tuple[str, ...]

    def check(self, value) -> str:
        return choice(value, self.name, self.options)


SEED = Bound("Seed", 0, MAX_SEED, integer=True)
