"""The judge abstains on images that are no garment at all, and still names the class of real ones."""
import json

import torch

from genmodels.data.examples import load_examples, load_real_images
from genmodels.data.fashion_mnist import to_model_range
from genmodels.eval.judge import GATE_PATH, fit_gate, image_statistics, judged
from genmodels.ui.judge import UNRECOGNIZED, verdict_captions


def test_noise_blank_and_flat_images_get_no_class():
    generator = torch.Generator().manual_seed(0)
    noise = torch.rand(64, 1, 28, 28, generator=generator) * 2 - 1
    flat = torch.stack([torch.full((1, 28, 28), level) for level in (-1.0, -0.5, 0.0, 0.5, 1.0)])
    verdicts = judged(torch.cat([noise, noise.clamp(-1, 0), flat]))
    assert verdicts and not any(v["recognizable"] for v in verdicts)
    assert set(verdict_captions(verdicts, len(verdicts))) == {UNRECOGNIZED}


def test_real_test_images_keep_their_class():
    real = to_model_range(load_real_images())  # the 512 shipped test images
    recognized = sum(v["recognizable"] for v in judged(real)) / len(real)
    assert recognized >= 0.98
    assert all(v["recognizable"] for v in judged(to_model_range(load_examples())))  # one per class
    committed = json.loads(GATE_PATH.read_text())
    assert committed["real_test_images_recognized"] >= 0.98


def test_the_gate_is_fitted_from_the_statistics_of_real_images():
    real = to_model_range(load_real_images())
    bounds = fit_gate(real, real)
    stats = image_statistics(real)
    assert (stats["border"] <= bounds["border_max"]).float().mean() >= 0.99
    assert (stats["ink"] >= bounds["ink_min"]).float().mean() >= 0.99
    assert bounds["real_test_images_recognized"] >= 0.98
