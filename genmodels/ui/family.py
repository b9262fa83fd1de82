"""A top-level tab of the app: what the registry lists, one entry per family."""
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class FamilyTab:
    """A tab's id (its links' `tab=`), its label, its layout builder (given the page, to show results on arrival;
    returns the controls a link shares) and the JSON endpoints it registers (None for a tab with none)."""
    id: str
    label: str
    build: Callable[..., dict]
    register_api: Callable[[], None] | None = None
