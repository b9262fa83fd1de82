"""Judge the committed diffusion model with the Fashion-MNIST classifier: `python -m genmodels.diffusion.evaluate`.

Prints one JSON object: for each class, how often samples prompted with that class are classified as it (guidance
3, 50 DDIM steps), beside how often the classifier is right on real test images of the class; and the class
histogram of unconditional samples (empty prompt) with its entropy.
"""
import argparse
import json
import os
from pathlib import Path

import torch

from genmodels import serving
from genmodels.checkpoint import read_config
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.diffusion.captions import PHRASES
from genmodels.diffusion.generate import Settings, sample
from genmodels.diffusion.pretrained import ASSET_DIR, load_diffusion_model
from genmodels.eval.classifier import ASSET_STEM, REMAKE, ClassifierConfig, classify
from genmodels.eval.metrics import class_histogram, entropy_bits
from genmodels.runtime import timer


def prompted_accuracy(dm, per_class: int, guidance: float, steps: int, seed: int, batch: int) -> list[float]:
    """For each class, the share of `per_class` samples prompted with its short phrase that the judge agrees with."""
    accuracy = []
    for label, phrases in enumerate(PHRASES):
        prompt = phrases[1]  # "a t-shirt", "a pair of trousers", ...
        hits = 0
        for start in range(0, per_class, batch):
            count = min(batch, per_class - start)
            settings = Settings(prompt=prompt, guidance=guidance, steps=steps, seed=seed + label * 10_000 + start,
                                count=count)
            hits += int((classify(sample(dm, settings, keep=0).images).argmax(-1) == label).sum())
        accuracy.append(hits / per_class)
    return accuracy


def unconditional_histogram(dm, samples: int, steps: int, seed: int, batch: int) -> list[float]:
    """Class histogram of unconditional samples (empty prompt)."""
    labels = []
    for start in range(0, samples, batch):
        settings = Settings(prompt="", guidance=1.0, steps=steps, seed=seed + start, count=min(batch, samples - start))
        labels.append(classify(sample(dm, settings, keep=0).images).argmax(-1))
    return class_histogram(torch.cat(labels))


def evaluate(per_class: int = 100, unconditional: int = 1000, guidance: float = 3.0, steps: int = 50,
             seed: int = 12345, batch: int = 100, asset_dir: Path = ASSET_DIR) -> dict:
    """The figures of the quality target, as a dict."""
    dm = load_diffusion_model(asset_dir)
    _, judge = read_config(ASSET_STEM, ClassifierConfig, REMAKE)
    real = judge["meta"]["per_class_accuracy"]
    with timer(dm.unet.conv_in.weight.device) as elapsed:
        accuracy = prompted_accuracy(dm, per_class, guidance, steps, seed, batch)
        histogram = unconditional_histogram(dm, unconditional, steps, seed + 1, batch)
    return {
        "guidance": guidance, "steps": steps, "sampler": "DDIM", "eta": 0.0, "samples_per_class": per_class,
        "accuracy": round(sum(accuracy) / len(accuracy), 4),
        "per_class_accuracy": [round(a, 4) for a in accuracy],
        "classifier_accuracy_on_real_test_images": real,
        "classes_at_least_as_recognizable_as_real": sum(a >= r for a, r in zip(accuracy, real)),
        "unconditional_samples": unconditional,
        "unconditional_histogram": [round(p, 4) for p in histogram],
        "unconditional_entropy_bits": round(entropy_bits(histogram), 4),
        "unconditional_classes_covered": sum(p > 0 for p in histogram),
        "classes": CLASS_NAMES, "device": str(dm.unet.conv_in.weight.device), "seconds": round(elapsed.seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=100)
    parser.add_argument("--unconditional", type=int, default=1000)
    parser.add_argument("--guidance", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args()
    os.environ[serving.BATCHING_ENV] = "0"  # alone in its process: batches of 100 images, past the engine's row cap
    print(json.dumps(evaluate(args.per_class, args.unconditional, args.guidance, args.steps)))


if __name__ == "__main__":
    main()
