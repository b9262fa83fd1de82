"""Checks at the UI/API boundary: every value is converted and range-checked, or a clear gr.Error is raised."""
import math

import gradio as gr

MAX_TEXT_CHARS = 20_000


def number(value, name: str, low: float, high: float, integer: bool = False) -> float | int:
    """`value` as a finite number in [low, high] (an int if `integer`), else a gr.Error naming the limits."""
    if isinstance(value, bool) or value is None or value == "":
        raise gr.Error(f"{name} must be a number between {low:g} and {high:g}.")
    try:
        number_value = float(value)
    except (TypeError, ValueError, OverflowError):
        raise gr.Error(f"{name} must be a number between {low:g} and {high:g}, not {str(value)[:40]!r}.") from None
    if not math.isfinite(number_value) or not low <= number_value <= high:
        raise gr.Error(f"{name} must be between {low:g} and {high:g} (got {str(value)[:40]}).")
    if integer:
        if number_value != int(number_value):
            raise gr.Error(f"{name} must be a whole number (got {number_value:g}).")
        return int(number_value)
    return number_value


def text(value, name: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """`value` as valid Unicode of at most `max_chars` characters (None counts as empty)."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise gr.Error(f"{name} must be text.")
    if len(value) > max_chars:
        raise gr.Error(f"{name} is {len(value):,} characters; the limit is {max_chars:,}.")
    return value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates are not text: they become "?"


def seed(value) -> int:
    """A seed in [0, 2^31 - 1]."""
    return number(value, "Seed", 0, 2**31 - 1, integer=True)
