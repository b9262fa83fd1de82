"""Helpers every image tab shares: the judge classifier's verdicts and images as plain JSON gray levels."""
import torch

from genmodels.checkpoint import CheckpointError
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.eval.classifier import classify
from genmodels.ui import images


def judged(x: torch.Tensor) -> list[dict]:
    """The Fashion-MNIST judge's verdict on each image (B, 1, 28, 28): class and confidence; [] without the judge."""
    try:
        probs = classify(x)
    except (CheckpointError, FileNotFoundError):
        return []
    confidence, label = probs.max(dim=-1)
    return [{"class": CLASS_NAMES[k], "confidence": round(c, 4)} for k, c in zip(label.tolist(), confidence.tolist())]


def gray_levels(x: torch.Tensor) -> list:
    """(B, 1, 28, 28) in [-1, 1] as nested lists of 0-255 integers (B, 28, 28)."""
    return images.to_uint8(x).tolist()


def verdict_captions(x: torch.Tensor, prefix: str = "") -> list[str]:
    """'Sneaker 98%', the judge's verdict, under each image (just the prefix when the judge is missing)."""
    verdicts = judged(x)
    if not verdicts:
        return [prefix.strip()] * len(x)
    return [f"{prefix}{v['class']} {v['confidence']:.0%}" for v in verdicts]
