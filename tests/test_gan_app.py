"""The GAN API through gradio_client against a launched app: samples, interpolation, the discriminator, the
live 2-D GAN per session, and clear errors for bad input."""
import math

import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.test_app import assert_clean_error, call

pytestmark = pytest.mark.app
TOY = dict(dataset="ring", loss="non-saturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, batch_size=256,
           latent_dim=2, hidden=128, depth=3)


def test_gan_sample_returns_images_with_p_real_and_verdicts(client):
    result = call(client, "gan_sample", kind="healthy", seed=3, count=5)
    assert len(result["images"]) == 5 and all(len(img) == 28 and len(img[0]) == 28 for img in result["images"])
    assert all(0 <= p <= 1 for p in result["p_real"]) and len(result["p_real"]) == 5
    assert len(result["judge"]) == 5 and {"class", "confidence"} <= set(result["judge"][0])
    fewer = call(client, "gan_sample", kind="healthy", seed=3, count=2)
    assert fewer["images"] == result["images"][:2]  # image i depends only on (seed, i)
    collapsed = call(client, "gan_sample", kind="collapsed", seed=3, count=2)
    assert collapsed["images"] != fewer["images"]


def test_gan_interpolate_ends_at_the_grid_images_and_slerp_keeps_the_shell(client):
    grid_a = call(client, "gan_sample", kind="healthy", seed=4, count=3)
    grid_b = call(client, "gan_sample", kind="healthy", seed=9, count=1)
    result = call(client, "gan_interpolate", kind="healthy", seed_a=4, index_a=2, seed_b=9, index_b=0, frames=7)
    for path in ("linear", "spherical"):
        assert len(result[path]["images"]) == 7 and len(result[path]["norms"]) == 7
        assert result[path]["images"][0] == grid_a["images"][2] and result[path]["images"][-1] == grid_b["images"][0]
    linear, spherical = result["linear"]["norms"], result["spherical"]["norms"]
    assert min(linear) < min(spherical)  # the chord sags inside the shell
    assert result["typical_norm"] == pytest.approx(math.sqrt(64))


def test_gan_discriminate_scores_real_and_generated_images(client):
    result = call(client, "gan_discriminate", kind="healthy", count=32, seed=0)
    assert len(result["real"]) == len(result["generated"]) == 32
    assert all(0 <= p <= 1 for p in result["real"] + result["generated"])
    assert result["mean_real"] == pytest.approx(sum(result["real"]) / 32, abs=1e-3)


def test_toy_gan_step_continues_one_run_per_session(app_url):
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    plane, curves, text, numbers, manifold = first.predict(**TOY, steps=30, api_name="/toy_gan_step")
    assert numbers["step"] == 30 and not numbers["diverged"]
    assert numbers["n_modes"] == 8 and numbers["distance"] > 0
    assert "Step 30" in text and "Step 30" in manifold["plot"]  # the manifold's title names the step it shows
    numbers = first.predict(**TOY, steps=20, api_name="/toy_gan_step")[3]
    assert numbers["step"] == 50  # the same session continues its run
    assert second.predict(**TOY, steps=10, api_name="/toy_gan_step")[3]["step"] == 10  # another session starts its own
    changed = first.predict(**(TOY | dict(lr_g=2e-3)), steps=10, api_name="/toy_gan_step")[3]
    assert changed["step"] == 60  # a learning rate applies to the running session
    restarted = first.predict(**(TOY | dict(dataset="grid")), steps=10, api_name="/toy_gan_step")
    assert restarted[3]["step"] == 10 and restarted[3]["n_modes"] == 25 and "new run" in restarted[2]


@pytest.mark.parametrize("api_name, kwargs, words", [
    ("gan_sample", dict(kind="blurry", seed=0, count=4), ["generator", "healthy"]),
    ("gan_sample", dict(kind="healthy", seed=-1, count=4), ["seed"]),
    ("gan_sample", dict(kind="healthy", seed=0, count=65), ["images", "64"]),
    ("gan_interpolate", dict(kind="healthy", seed_a=0, index_a=0, seed_b=1, index_b=0, frames=1), ["frames", "2"]),
    ("gan_interpolate", dict(kind="healthy", seed_a=0, index_a=0, seed_b=1, index_b=0, frames=65), ["frames", "64"]),
    ("gan_interpolate", dict(kind="healthy", seed_a=0, index_a=64, seed_b=1, index_b=0, frames=8), ["index"]),
    ("gan_interpolate", dict(kind="healthy", seed_a="x", index_a=0, seed_b=1, index_b=0, frames=8), ["seed"]),
    ("gan_discriminate", dict(kind="healthy", count=513, seed=0), ["images", "512"]),
    ("toy_gan_step", TOY | dict(lr_g=0.5, steps=10), ["lr_g", "0.1"]),
    ("toy_gan_step", TOY | dict(lr_d=-1, steps=10), ["lr_d"]),
    ("toy_gan_step", TOY | dict(seed=-3, steps=10), ["seed"]),
    ("toy_gan_step", TOY | dict(d_steps=11, steps=10), ["d_steps", "11", "[1, 10]"]),
    ("toy_gan_step", TOY | dict(d_steps="3", steps=10), ["d_steps", "'3'"]),
    ("toy_gan_step", TOY | dict(dataset="spiral", steps=10), ["spiral"]),
    ("toy_gan_step", TOY | dict(steps=2001), ["steps", "2001", "2000"]),
    ("toy_gan_step", TOY | dict(steps=0), ["steps", "between 1 and 2000"]),
])
def test_bad_gan_input_gets_a_clear_error_and_the_server_keeps_serving(client, api_name, kwargs, words):
    with pytest.raises(AppError) as excinfo:
        call(client, api_name, **kwargs)
    assert_clean_error(excinfo, *words)
    assert len(call(client, "gan_sample", kind="healthy", seed=0, count=1)["images"]) == 1
