"""The comparison report: the committed assets/report.json has every figure for every model, and the measuring
functions run on small settings."""
import json
import math

import pytest
import torch

from genmodels.data.fashion_mnist import load_split, to_model_range
from genmodels.eval.metrics import classifier_features
from genmodels.eval.report import DIFFUSION_STEPS, REPORT_PATH, balanced, measure_diffusion, measure_gan
from genmodels.pixels.requests import DEFAULT_GUIDANCE

IMAGE_KEYS = {"model", "network_evaluations", "seconds_per_sample", "samples", "frechet_distance", "coverage",
              "within_class_distance", "stability"}


@pytest.fixture(scope="module")
def real_features():
    images, labels = balanced(*load_split("test"), 3)
    assert torch.equal(labels, torch.arange(10).repeat_interleave(3))
    return classifier_features(to_model_range(images))


def test_committed_report_has_every_figure_for_every_model():
    report = json.loads(REPORT_PATH.read_text())
    assert report["command"].startswith("python -m genmodels.eval.report") and report["device"] and report["date"]
    assert "not Inception FID" in report["frechet_note"] and report["frechet_floor_real_train_vs_real_test"] > 0
    entries = [report["gan"], report["pixels"], *report["diffusion"]]
    assert [row["steps"] for row in report["diffusion"]] == list(DIFFUSION_STEPS)
    for entry in entries:
        assert IMAGE_KEYS <= set(entry), entry["model"]
        assert math.isfinite(entry["frechet_distance"]) and entry["seconds_per_sample"] > 0
        assert entry["samples"] == 10 * report["samples_per_class"]
        assert abs(sum(entry["coverage"]["histogram"]) - 1) < 1e-6
        assert all(math.isfinite(s["relative_spread"]) for s in entry["stability"].values())
    pixels = report["pixels"]
    assert report["gan"]["network_evaluations"] == 1 and pixels["network_evaluations"] == 2 * 784  # guided
    assert pixels["guidance"] == DEFAULT_GUIDANCE and pixels["unguided"]["class_accuracy"] < pixels["class_accuracy"]
    assert [row["network_evaluations"] for row in report["diffusion"]] == [2 * s for s in DIFFUSION_STEPS]
    assert 0 <= report["pixels"]["class_accuracy"] <= 1 and report["text"]["bits_per_character"] > 0
    times = [row["seconds_per_sample"] for row in report["diffusion"]]
    assert times == sorted(times)  # more steps take longer


def test_measuring_the_gan_and_diffusion_on_small_settings(real_features, one_thread):
    gan = measure_gan(3, real_features, repeats=1)
    assert IMAGE_KEYS <= set(gan) and gan["samples"] == 30 and "class_accuracy" not in gan
    assert set(gan["stability"]) == {"discriminator", "generator"}
    rows = measure_diffusion(1, real_features, repeats=1, steps_list=(2,))
    assert len(rows) == 1 and rows[0]["network_evaluations"] == 4 and rows[0]["samples"] == 10
    assert 0 <= rows[0]["class_accuracy"] <= 1
