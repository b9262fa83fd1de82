"""The judge classifier's verdicts (genmodels.eval.judge) as captions under generated images."""

UNRECOGNIZED = "not a garment"  # the judge abstains: noise, a blank or a flat image is no class at all


def verdict_label(verdict: dict, percent: bool = False) -> str:
    """'Sneaker' (or 'Sneaker 98%'), or UNRECOGNIZED where the judge abstained."""
    if not verdict.get("recognizable", True):
        return UNRECOGNIZED
    return f"{verdict['class']} {verdict['confidence']:.0%}" if percent else verdict["class"]


def verdict_captions(verdicts: list[dict], count: int, prefix: str = "") -> list[str]:
    """'Sneaker 98%' under each of `count` images (just the prefix when the judge is missing: no verdicts)."""
    if not verdicts:
        return [prefix.strip()] * count
    return [prefix + verdict_label(v, percent=True) for v in verdicts]
