"""What every image family returns beside its images: the judge classifier's verdicts and JSON gray levels."""
import torch

from genmodels.checkpoint import CheckpointError
from genmodels.data.fashion_mnist import CLASS_NAMES, to_uint8
from genmodels.eval.classifier import classify


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
    return to_uint8(x.detach().float().cpu()).tolist()
