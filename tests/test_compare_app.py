"""The pixel and Compare APIs through gradio_client against a launched app."""
import pytest
from gradio_client.exceptions import AppError

from tests.test_app import assert_clean_error, call

pytestmark = pytest.mark.app


def test_pixels_sample_draws_judged_images_reproducibly(client):
    result = call(client, "pixels_sample", label="Trouser", count=2, temperature=1.0, top_k=0, top_p=1.0, seed=3)
    assert len(result["images"]) == 2 and len(result["images"][0]) == 28 and len(result["images"][0][0]) == 28
    assert result["network_evaluations_per_image"] == 2 * 784 and result["guidance"] == 2.0  # the tab's default
    assert result["class"] == "Trouser" and len(result["judge"]) == 2 and result["seconds"] > 0
    plain = call(client, "pixels_sample", label="Trouser", count=2, seed=3, guidance=1.0)
    assert plain["network_evaluations_per_image"] == 784 and plain["images"] != result["images"]
    again = call(client, "pixels_sample", label="Trouser", count=2, temperature=1.0, top_k=0, top_p=1.0, seed=3)
    assert again["images"] == result["images"]
    other = call(client, "pixels_sample", label="Trouser", count=2, temperature=1.0, top_k=0, top_p=1.0, seed=4)
    assert other["images"] != result["images"]


def test_race_runs_one_sample_per_family_and_the_report_is_served(client):
    result = call(client, "race", label="Sneaker", diffusion_steps=5, seed=0)
    assert set(result) >= {"gan", "diffusion", "pixels", "device", "asked_for"}
    assert [result[f]["network_evaluations"] for f in ("gan", "diffusion", "pixels")] == [1, 10, 2 * 784]
    assert all(len(result[f]["image"]) == 28 and result[f]["seconds"] > 0 for f in ("gan", "diffusion", "pixels"))
    report = call(client, "compare_report")
    assert {"gan", "diffusion", "pixels", "text", "device", "command", "date", "training"} <= set(report)
    assert report["training"]["pixels"]["steps"] > 0 and report["training"]["diffusion"]["device"]


def test_the_training_timeline_endpoint_sends_a_snapshot_and_refuses_bad_values(client):
    first = call(client, "training_timeline", family="diffusion", snapshot=1)
    last = call(client, "training_timeline", family="diffusion", snapshot=1000)
    assert first["step"] == 0 and last["snapshot"] == last["snapshots"] == len(last["curve"]["step"])
    assert len(first["images"]) == len(first["probe_names"]) == 10 and len(first["images"][0]) == 28
    assert first["images"] != last["images"]  # the same noise, before and after training
    for bad in (dict(family="gan", snapshot=1), dict(family="pixels", snapshot=0)):
        with pytest.raises(AppError):
            call(client, "training_timeline", **bad)


@pytest.mark.parametrize("api_name, kwargs, words", [
    ("pixels_sample", dict(label="Hat", count=1, temperature=1, top_k=0, top_p=1, seed=0), ["class", "sneaker"]),
    ("pixels_sample", dict(label="Bag", count=17, temperature=1, top_k=0, top_p=1, seed=0), ["images", "16"]),
    ("pixels_sample", dict(label="Bag", count=1, temperature=3, top_k=0, top_p=1, seed=0), ["temperature"]),
    ("pixels_sample", dict(label="Bag", count=1, temperature=1, top_k=0, top_p=0, seed=0), ["top-p"]),
    ("race", dict(label="any class", diffusion_steps=5, seed=0), ["class"]),
    ("race", dict(label="Bag", diffusion_steps=0, seed=0), ["steps"]),
])
def test_bad_pixel_and_race_input_gets_a_clear_error(client, api_name, kwargs, words):
    with pytest.raises(AppError) as excinfo:
        call(client, api_name, **kwargs)
    assert_clean_error(excinfo, *words)


def test_the_race_says_the_unconditional_gan_was_not_asked_for_the_class():
    from genmodels.ui.compare.views import on_race

    *_, table = list(on_race("Sneaker", 1, 0))[-1]
    assert "asked for a Sneaker" in table and "GAN cannot be asked" in table
