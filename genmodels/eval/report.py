"""Measure the three families on the same data: `python -m genmodels.eval.report > assets/report.json`.

Each image model draws `per_class` samples of every class (the GAN, which has no classes, draws 10 x per_class),
and the judge classifier scores them: a Frechet distance to real test images in its feature space (not Inception
FID), the share drawn as the wanted class, class coverage and its entropy, and the mean feature distance between
samples of one class. Speed is the median wall time of one sample at batch 1 on this machine, with the network
evaluations it takes. Stability is the spread of each training loss over the last fifth of its log. The text
model's bits per character come from its committed evaluation.
"""
import argparse
import datetime
import json
import statistics
import time
from functools import partial
from pathlib import Path

import torch

from genmodels import serving
from genmodels.data.fashion_mnist import load_split, to_model_range
from genmodels.diffusion.captions import PHRASES
from genmodels.diffusion.generate import Settings, sample
from genmodels.diffusion.pretrained import load_diffusion_model
from genmodels.eval.classifier import classify
from genmodels.eval.metrics import (
    class_accuracy,
    classifier_features,
    coverage,
    frechet_distance,
    loss_stability,
    mean_pairwise_distance,
    tail_points,
)
from genmodels.gan.latent import sample_latents
from genmodels.gan.pretrained import generate, load_gan
from genmodels.paths import ASSETS
from genmodels.pixels.requests import DEFAULT_GUIDANCE
from genmodels.pixels.sample import evaluations_per_image, load_pixel_model, sample_pixels
from genmodels.runtime import device_name

DIFFUSION_STEPS = (5, 10, 20, 50, 100, 250)
GUIDANCE = 3.0
REPORT_PATH = ASSETS / "report.json"
SEED = 2024
TIMED_PIXEL_CLASS = 7  # the class of the pixel image that is timed (Sneaker)


def tidy(value):
    """Floats rounded to 4 significant digits, inside dicts and lists too."""
    if isinstance(value, dict):
        return {key: tidy(v) for key, v in value.items()}
    if isinstance(value, list):
        return [tidy(v) for v in value]
    return float(f"{value:.4g}") if isinstance(value, float) else value


def balanced(images: torch.Tensor, labels: torch.Tensor, per_class: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `per_class` images of each class, class by class."""
    picks = torch.cat([(labels == k).nonzero()[:per_class, 0] for k in range(10)])
    return images[picks], labels[picks]


def seconds_per_sample(draw, repeats: int) -> float:
    """Median wall time of draw() (one sample), after one untimed warm-up call."""
    draw()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draw()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def judged(images: torch.Tensor, wanted: torch.Tensor | None, real_features: torch.Tensor) -> dict:
    """Quality and diversity of samples (N, 1, 28, 28) in [-1, 1] against real test features."""
    features = classifier_features(images)  # (N, D)
    labels = classify(images).argmax(-1)  # (N,)
    figures = {"samples": len(images), "frechet_distance": round(frechet_distance(features, real_features), 3),
               "coverage": coverage(labels), "within_class_distance": mean_pairwise_distance(features, labels)["mean"]}
    if wanted is not None:
        figures["class_accuracy"] = round(class_accuracy(labels, wanted), 4)
    return figures


def stability(curves: dict[str, list[float]]) -> dict:
    """loss_stability of every named curve, None for one too short to have a tail of two points (a tiny run's)."""
    return {name: loss_stability(values) if tail_points(len(values)) >= 2 else None for name, values in curves.items()}


def measure_gan(per_class: int, real_features: torch.Tensor, repeats: int) -> dict:
    """The healthy GAN: one generator pass per sample, no classes to ask for."""
    gan = load_gan("healthy")
    images = generate(gan, sample_latents(SEED, 10 * per_class, gan.config.latent_dim))
    z = sample_latents(SEED + 1, 1, gan.config.latent_dim)
    log = json.loads((ASSETS / "gan/healthy_train_log.json").read_text())["train"]
    return {"model": "DCGAN (healthy)", "network_evaluations": 1,
            "seconds_per_sample": seconds_per_sample(lambda: generate(gan, z), repeats),
            **judged(images, None, real_features),
            "stability": stability({"discriminator": log["d_loss"], "generator": log["g_loss"]})}


def measure_diffusion(per_class: int, real_features: torch.Tensor, repeats: int, steps_list) -> list[dict]:
    """The text-prompted U-Net at each step count (DDIM, guidance 3: two network evaluations per step)."""
    dm = load_diffusion_model()
    log = json.loads((ASSETS / "diffusion/train_log.json").read_text())["train"]
    rows = []
    for steps in steps_list:
        batches = [sample(dm, Settings(prompt=phrases[1], guidance=GUIDANCE, steps=steps, seed=SEED + label,
                                       count=per_class), keep=0).images for label, phrases in enumerate(PHRASES)]
        one = Settings(prompt=PHRASES[7][1], guidance=GUIDANCE, steps=steps, seed=SEED, count=1)
        rows.append({"model": f"U-Net diffusion, {steps} DDIM steps", "steps": steps,
                     "network_evaluations": 2 * steps,
                     "seconds_per_sample": seconds_per_sample(lambda: sample(dm, one, keep=0), repeats),
                     **judged(torch.cat(batches), torch.arange(10).repeat_interleave(per_class), real_features),
                     "stability": stability({"noise_prediction": log["loss"]})})
    return rows


def pixel_images(model, per_class: int, guidance: float) -> torch.Tensor:
    """`per_class` images of each class, class by class, in [-1, 1] (10 per_class, 1, 28, 28); each class in one
    batch outside the engine, whose rows it can exceed (20 guided images are 40 rows)."""
    draw = partial(sample_pixels, model, count=per_class, guidance=guidance)
    images = serving.with_batching(False, lambda: [draw(label, seed=SEED + label) for label in range(10)])
    return to_model_range(torch.cat(images))


def measure_pixels(per_class: int, real_features: torch.Tensor, repeats: int, asset_dir=ASSETS / "pixels",
                   guidance: float = DEFAULT_GUIDANCE) -> dict:
    """The pixel transformer at the app's guidance (one network evaluation per pixel, two when guided, KV-cached,
    temperature 1), and its quality unguided."""
    pm = load_pixel_model(asset_dir)
    wanted = torch.arange(10).repeat_interleave(per_class)
    log = json.loads((asset_dir / "train_log.json").read_text())
    figures = {"model": "pixel transformer", "guidance": guidance,
               "network_evaluations": evaluations_per_image(TIMED_PIXEL_CLASS, guidance),
               "seconds_per_sample": seconds_per_sample(
                   lambda: sample_pixels(pm.model, TIMED_PIXEL_CLASS, 1, seed=SEED, guidance=guidance), repeats),
               **judged(pixel_images(pm.model, per_class, guidance), wanted, real_features),
               "held_out_bits_per_pixel": pm.record["meta"]["val_bits_per_pixel"], "levels": pm.model.config.levels,
               "stability": stability({"cross_entropy": log["train"]["loss"]})}
    if guidance != 1:
        plain = judged(pixel_images(pm.model, per_class, 1.0), wanted, real_features)
        figures["unguided"] = {name: plain[name] for name in ("frechet_distance", "class_accuracy")}
    return figures


def measure_text() -> dict:
    """The Shakespeare GPT's committed held-out figures and the stability of its training loss."""
    evaluation = json.loads((ASSETS / "text/evaluation.json").read_text())
    log = json.loads((ASSETS / "text/train_log.json").read_text())
    return {"model": "GPT on Shakespeare", "bits_per_character": evaluation["val_bits_per_char"],
            "stability": stability({"cross_entropy": log["train"]["loss"]})}


def real_features(per_class: int) -> tuple[torch.Tensor, float]:
    """The judge's features of `per_class` real test images per class (10 per_class, D), and the Frechet floor:
    the distance from as many real training images to them."""
    test_images, _ = balanced(*load_split("test"), per_class)
    train_images, _ = balanced(*load_split("train"), per_class)
    real = classifier_features(to_model_range(test_images))
    return real, frechet_distance(classifier_features(to_model_range(train_images)), real)


def report(per_class: int = 20, repeats: int = 3, diffusion_steps=DIFFUSION_STEPS,
           pixel_assets=ASSETS / "pixels") -> dict:
    """Every figure for every model, with what produced them (the pixel transformer's from `pixel_assets`)."""
    real, floor = real_features(per_class)
    device = next(load_gan("healthy").generator.parameters()).device
    start = time.perf_counter()
    figures = {"gan": measure_gan(per_class, real, repeats),
               "diffusion": measure_diffusion(per_class, real, repeats, diffusion_steps),
               "pixels": measure_pixels(per_class, real, repeats, pixel_assets), "text": measure_text()}
    return {"command": f"python -m genmodels.eval.report --per-class {per_class}",
            "date": datetime.date.today().isoformat(), "device": str(device), "device_name": device_name(device),
            "threads": torch.get_num_threads(), "samples_per_class": per_class,
            "frechet_note": "Frechet distance in the Fashion-MNIST judge classifier's 128-d feature space, not "
                            "Inception FID; small sample sets bias it upwards, so compare it with the floor",
            "frechet_floor_real_train_vs_real_test": round(floor, 3), **figures,
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-class", type=int, default=20, help="samples of each class per image model")
    parser.add_argument("--repeats", type=int, default=3, help="timed single samples per model")
    parser.add_argument("--diffusion-steps", type=int, nargs="+", default=DIFFUSION_STEPS,
                        help="DDIM step counts to measure the diffusion model at")
    parser.add_argument("--pixel-assets", type=Path, default=ASSETS / "pixels",
                        help="the pixel transformer to measure (default: the committed one)")
    args = parser.parse_args()
    print(json.dumps(tidy(report(args.per_class, args.repeats, tuple(args.diffusion_steps), args.pixel_assets))))


if __name__ == "__main__":
    main()
