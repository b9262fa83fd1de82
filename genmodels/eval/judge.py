"""What every image family returns beside its images: the judge classifier's verdicts and JSON gray levels.

The judge abstains on images that do not look like Fashion-MNIST photographs at all (noise, blank or flat
images): a classifier always names one of its ten classes, often with high confidence, even for pure noise.
The gate is three pixel statistics and the classifier's confidence, each bounded by what real training images
show (assets/eval/judge_gate.json, fitted by `python -m genmodels.eval.judge`).
"""
import argparse
import functools
import json

import torch

from genmodels.checkpoint import CheckpointError, read_log
from genmodels.data.fashion_mnist import CLASS_NAMES, load_split, to_model_range, to_uint8
from genmodels.eval.classifier import classify
from genmodels.paths import ASSETS

GATE_PATH = ASSETS / "eval" / "judge_gate.json"
CONFIDENCE_MIN = 0.4  # below this the judge's best class is a guess; real test images fall there 0.7% of the time
QUANTILE = 0.001  # each statistic's bound leaves out this share of real training images on its side
BRIGHT = -0.5  # a pixel brighter than this (in [-1, 1]) counts as ink


def image_statistics(x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Per image (B, 1, 28, 28) in [-1, 1]: the mean of its 2-pixel frame (photographs: a dark background), the mean
    difference between neighbouring pixels (noise: large), and the share of bright pixels (blank: none)."""
    x = x.float()
    frame = torch.ones_like(x[0, 0], dtype=torch.bool)
    frame[2:-2, 2:-2] = False
    border = x[:, 0][:, frame].mean(dim=1)  # (B,)
    variation = ((x[..., 1:, :] - x[..., :-1, :]).abs().mean((1, 2, 3)) +
                 (x[..., :, 1:] - x[..., :, :-1]).abs().mean((1, 2, 3))) / 2  # (B,)
    ink = (x > BRIGHT).float().mean((1, 2, 3))  # (B,)
    return {"border": border, "variation": variation, "ink": ink}


@functools.cache
def gate() -> dict | None:
    """The committed bounds, or None when the file is missing (then every image gets a class, as before)."""
    return read_log(GATE_PATH)


def recognizable(x: torch.Tensor, confidence: torch.Tensor, bounds: dict | None = None) -> torch.Tensor:
    """Whether each image (B,) looks like a Fashion-MNIST photograph and the judge is confident enough about it."""
    bounds = gate() if bounds is None else bounds
    if bounds is None:
        return torch.ones(len(x), dtype=torch.bool)
    s = image_statistics(x)
    return ((s["border"] <= bounds["border_max"]) & (s["variation"] <= bounds["variation_max"]) &
            (s["ink"] >= bounds["ink_min"]) & (confidence.cpu() >= bounds["confidence_min"]))


def judged(x: torch.Tensor) -> list[dict]:
    """The judge's verdict on each image (B, 1, 28, 28): its best class, the confidence, and whether the image is
    recognizable at all (when not, the class is only the classifier's forced guess); [] without the judge."""
    try:
        probs = classify(x)
    except (CheckpointError, FileNotFoundError):
        return []
    confidence, label = probs.max(dim=-1)
    known = recognizable(x.detach().cpu(), confidence).tolist()
    return [{"class": CLASS_NAMES[k], "confidence": round(c, 4), "recognizable": r}
            for k, c, r in zip(label.tolist(), confidence.tolist(), known)]


def gray_levels(x: torch.Tensor) -> list:
    """(B, 1, 28, 28) in [-1, 1] as nested lists of 0-255 integers (B, 28, 28)."""
    return to_uint8(x.detach().float().cpu()).tolist()


def fit_gate(train: torch.Tensor, test: torch.Tensor) -> dict:
    """Bounds from real training images (N, 1, 28, 28), and the share of real test images they let through."""
    s = image_statistics(train)
    bounds = {"border_max": s["border"].quantile(1 - QUANTILE).item(),
              "variation_max": s["variation"].quantile(1 - QUANTILE).item(),
              "ink_min": s["ink"].quantile(QUANTILE).item(), "confidence_min": CONFIDENCE_MIN}
    confidence = classify(test).max(dim=-1).values
    kept = recognizable(test, confidence, bounds).float().mean().item()
    return bounds | {"real_test_images_recognized": round(kept, 4), "fitted_on": f"{len(train)} training images",
                     "command": "python -m genmodels.eval.judge"}


def main() -> None:
    parser = argparse.ArgumentParser(description="Fit the judge's gate on Fashion-MNIST and write it to assets.")
    parser.add_argument("--train-images", type=int, default=20_000)
    args = parser.parse_args()
    train, _ = load_split("train")
    test, _ = load_split("test")
    record = fit_gate(to_model_range(train[:args.train_images]), to_model_range(test))
    GATE_PATH.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
