"""The judge classifier's verdicts (genmodels.eval.judge) as captions under generated images."""


def verdict_captions(verdicts: list[dict], count: int, prefix: str = "") -> list[str]:
    """'Sneaker 98%' under each of `count` images (just the prefix when the judge is missing: no verdicts)."""
    if not verdicts:
        return [prefix.strip()] * count
    return [f"{prefix}{v['class']} {v['confidence']:.0%}" for v in verdicts]
