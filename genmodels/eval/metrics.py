"""Numbers for judging generators: judge-feature Frechet distance, class accuracy, coverage, diversity, loss stability.

Everything is plain torch (float64 where it matters); images are (N, 1, 28, 28) in [-1, 1] or uint8 (N, 28, 28).
"""
import math

import torch

from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.eval.classifier import FashionClassifier, load_classifier, predict_features


def classifier_features(images: torch.Tensor, model: FashionClassifier | None = None,
                        batch_size: int = 500) -> torch.Tensor:
    """The judge classifier's penultimate features (N, D) on the CPU, by default the committed judge's."""
    return predict_features(model if model is not None else load_classifier(), images, batch_size)


def frechet_distance(feats_a: torch.Tensor, feats_b: torch.Tensor) -> float:
    """||mu_a - mu_b||^2 + tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to features (N, D), (M, D).

    On classifier_features this is a Frechet distance in the Fashion-MNIST judge classifier's feature space, NOT
    Inception FID: its numbers are not comparable to published FIDs.
    """
    if feats_a.ndim != 2 or feats_b.ndim != 2 or feats_a.shape[1] != feats_b.shape[1]:
        raise ValueError(f"need two (N, D) feature sets with the same D, not {tuple(feats_a.shape)} and "
                         f"{tuple(feats_b.shape)}")
    if min(len(feats_a), len(feats_b)) < 2:
        raise ValueError("need at least 2 feature vectors in each set")
    a, b = feats_a.double().cpu(), feats_b.double().cpu()
    mu_a, mu_b = a.mean(0), b.mean(0)  # (D,)
    cov_a, cov_b = (a - mu_a).T @ (a - mu_a) / (len(a) - 1), (b - mu_b).T @ (b - mu_b) / (len(b) - 1)  # (D, D)
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = (vectors * values.clamp(min=0).sqrt()) @ vectors.T  # S_a^(1/2)
    inner = root_a @ cov_b @ root_a  # symmetric, with the eigenvalues of S_a S_b
    cross = torch.linalg.eigvalsh((inner + inner.T) / 2).clamp(min=0).sqrt().sum()  # tr (S_a S_b)^(1/2)
    return ((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross).item()


def as_labels(probs_or_labels: torch.Tensor) -> torch.Tensor:
    """Class labels (N,): integer labels as they are, the argmax of probabilities or logits (N, C)."""
    if probs_or_labels.is_floating_point():
        if probs_or_labels.ndim != 2:
            raise ValueError(f"need probabilities (N, C), not shape {tuple(probs_or_labels.shape)}")
        return probs_or_labels.argmax(-1).cpu()
    if probs_or_labels.ndim != 1:
        raise ValueError(f"need labels (N,), not shape {tuple(probs_or_labels.shape)}")
    return probs_or_labels.long().cpu()


def class_accuracy(probs_or_labels: torch.Tensor, wanted_labels: torch.Tensor | int) -> float:
    """Share of conditional samples judged to be of the class they were asked for (one label, or one each)."""
    labels = as_labels(probs_or_labels)
    wanted = torch.as_tensor(wanted_labels).long().cpu()
    if wanted.ndim > 0 and wanted.shape != labels.shape:
        raise ValueError(f"{len(labels)} samples but {tuple(wanted.shape)} wanted labels")
    return (labels == wanted).float().mean().item()


def class_histogram(labels: torch.Tensor, classes: int = len(CLASS_NAMES)) -> list[float]:
    """Share of each class among predicted labels (N,)."""
    counts = torch.bincount(labels.cpu(), minlength=classes)
    if len(counts) > classes:
        raise ValueError(f"labels run up to {len(counts) - 1}, past {classes} classes")
    return (counts.double() / len(labels)).tolist()


def entropy_bits(shares: list[float]) -> float:
    """Entropy of a class histogram in bits (log2 10 = 3.32 for a uniform one)."""
    return -sum(p * math.log2(p) for p in shares if p > 0)


def coverage(labels: torch.Tensor, classes: int = len(CLASS_NAMES)) -> dict:
    """How evenly samples (labels, or probabilities (N, C)) cover the classes: histogram, entropy, rarest share."""
    histogram = class_histogram(as_labels(labels), classes)
    return {"histogram": histogram, "classes_covered": sum(p > 0 for p in histogram),
            "entropy_bits": entropy_bits(histogram), "smallest_share": min(histogram)}


def mean_pairwise_distance(features: torch.Tensor, labels: torch.Tensor, classes: int = len(CLASS_NAMES)) -> dict:
    """Diversity: mean L2 distance between distinct pairs of features (N, D) within each class (None under 2)."""
    features, labels = features.double().cpu(), as_labels(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise ValueError(f"need features (N, D) and N labels, not {tuple(features.shape)} and {len(labels)}")
    per_class = []
    for k in range(classes):
        members = features[labels == k]  # (n, D)
        n = len(members)
        distances = torch.cdist(members, members, compute_mode="donot_use_mm_for_euclid_dist")  # (n, n), 0 diagonal
        per_class.append(distances.sum().item() / (n * (n - 1)) if n >= 2 else None)
    measured = [d for d in per_class if d is not None]
    return {"per_class": per_class, "mean": sum(measured) / len(measured) if measured else None,
            "classes_measured": len(measured)}


STABILITY_TAIL = 0.2  # the share of a loss curve, at its end, that loss_stability measures


def tail_points(count: int, tail: float = STABILITY_TAIL) -> int:
    """How many of a curve's `count` values its last `tail` holds; loss_stability needs at least 2."""
    return math.ceil(count * tail)


def loss_stability(values: list[float] | torch.Tensor, tail: float = STABILITY_TAIL,
                   steps: list[int] | torch.Tensor | None = None) -> dict:
    """Over the last `tail` of a logged loss curve: mean, std, std / |mean| and least-squares slope per 1000 steps."""
    y = torch.as_tensor(values, dtype=torch.float64)
    x = torch.arange(len(y), dtype=torch.float64) if steps is None else torch.as_tensor(steps, dtype=torch.float64)
    if y.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"need one loss per step, not {tuple(y.shape)} losses at {tuple(x.shape)} steps")
    if not 0 < tail <= 1:
        raise ValueError(f"tail must be in (0, 1], not {tail}")
    count = tail_points(len(y), tail)
    if count < 2:
        raise ValueError(f"the last {tail:.0%} of {len(y)} values is under 2 points")
    x, y = x[-count:], y[-count:]
    mean, std = y.mean().item(), y.std().item()
    dx = x - x.mean()
    return {"points": count, "mean": mean, "std": std,
            "relative_spread": std / abs(mean) if mean else math.inf,
            "slope_per_1000_steps": 1000 * (dx * (y - mean)).sum().item() / dx.square().sum().item()}
