"""Judge the committed GANs with the Fashion-MNIST classifier: `python -m genmodels.gan.evaluate`.

Prints one JSON object: for the healthy and the collapsed generator, the share of 2000 samples the judge recognizes
as a garment (genmodels.eval.judge abstains on the rest), the class histogram of the recognized ones, its entropy in
bits (log2 10 = 3.32 is uniform), the classes covered and the rarest class's share, counted exactly as the GAN
tab's Healthy vs collapsed view counts them (whose default samples are the first 256 of these); the mean pixel distance between sample pairs relative to that between real test images (1 = as
diverse as the data, near 0 = one image); and the discriminator's mean P(real) on 2000 real test images and on
the samples.
"""
import argparse
import json
from pathlib import Path

import torch

from genmodels.data.fashion_mnist import CLASS_NAMES, load_split, to_model_range
from genmodels.eval.judge import judged
from genmodels.eval.metrics import class_histogram, entropy_bits
from genmodels.gan.latent import sample_latents
from genmodels.gan.pretrained import ASSET_DIR, KINDS, generate, load_gan, p_real
from genmodels.runtime import timer


def pair_distance(images: torch.Tensor) -> float:
    """Mean L2 distance between image i and image i + N/2 (N, 1, 28, 28): disjoint random pairs."""
    half = len(images) // 2
    return (images[:half] - images[half:2 * half]).flatten(1).norm(dim=1).mean().item()


def recognized_shares(verdicts: list[dict]) -> tuple[list[float], float]:
    """The share of each class among the images the judge recognized ([] if none, or without the judge), and the
    share it could not recognize as a garment."""
    known = [CLASS_NAMES.index(v["class"]) for v in verdicts if v["recognizable"]]
    shares = class_histogram(torch.tensor(known)) if known else []
    return shares, (1 - len(known) / len(verdicts) if verdicts else 0.0)


def judge(kind: str, real: torch.Tensor, samples: int, seed: int, asset_dir: Path) -> dict:
    """The figures of one generator against `real` test images (N, 1, 28, 28) in [-1, 1]."""
    gan = load_gan(kind, asset_dir)
    images = generate(gan, sample_latents(seed, samples, gan.config.latent_dim))  # (samples, 1, 28, 28)
    histogram, unrecognized = recognized_shares(judged(images))
    histogram = histogram or [0.0] * len(CLASS_NAMES)
    return {"samples": samples, "recognized": round(1 - unrecognized, 4), "histogram": [round(p, 4) for p in histogram],
            "entropy_bits": round(entropy_bits(histogram), 4), "classes_covered": sum(p > 0 for p in histogram),
            "smallest_class_share": round(min(histogram), 4),
            "relative_pair_distance": round(pair_distance(images) / pair_distance(real), 4),
            "mean_p_real_on_real": round(p_real(gan, real).mean().item(), 4),
            "mean_p_real_on_samples": round(p_real(gan, images).mean().item(), 4),
            "training": {k: gan.record["meta"][k] for k in ("preset", "steps", "loss", "collapse")}}


def evaluate(samples: int = 2000, real_images: int = 2000, seed: int = 0, asset_dir: Path = ASSET_DIR) -> dict:
    """The figures of the quality target for both committed GANs, as a dict."""
    real = to_model_range(load_split("test")[0][:real_images])  # (N, 1, 28, 28)
    with timer() as elapsed:
        result = {kind: judge(kind, real, samples, seed, Path(asset_dir)) for kind in KINDS}
    return result | {"real_images": real_images, "classes": CLASS_NAMES, "seconds": round(elapsed.seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--real", type=int, default=2000, help="real test images shown to the discriminator")
    parser.add_argument("--asset-dir", type=Path, default=ASSET_DIR)
    args = parser.parse_args()
    print(json.dumps(evaluate(args.samples, args.real, asset_dir=args.asset_dir)))


if __name__ == "__main__":
    main()
