"""The diffusion API through gradio_client against a launched app: results, determinism, bad input."""
import numpy as np
import pytest
from gradio_client.exceptions import AppError

from tests.test_app import assert_clean_error, call

pytestmark = pytest.mark.app


def test_diffuse_returns_images_judged_and_timed(client):
    result = call(client, "diffuse", prompt="a sneaker", guidance=3, steps=10, sampler="DDIM", eta=0, seed=1, count=3)
    assert len(result["images"]) == 3 and all(len(img) == 28 and len(img[0]) == 28 for img in result["images"])
    assert all(0 <= v <= 255 for img in result["images"] for row in img for v in row)
    assert len(result["timesteps"]) == 10 and result["timesteps"][0] == 999 and result["timesteps"][-1] == 0
    assert result["network_evaluations_per_image"] == 20  # guidance runs the U-Net twice per step
    assert set(result["understood"]) >= {"Sneaker", "Trouser"}
    assert result["seconds"] > 0


def test_ddim_eta_zero_is_deterministic_and_image_i_depends_only_on_seed(client):
    a = call(client, "diffuse", prompt="a bag", guidance=2, steps=8, sampler="DDIM", eta=0, seed=5, count=2)
    b = call(client, "diffuse", prompt="a bag", guidance=2, steps=8, sampler="DDIM", eta=0, seed=5, count=1)
    assert a["images"][0] == b["images"][0]
    other = call(client, "diffuse", prompt="a bag", guidance=2, steps=8, sampler="DDIM", eta=0, seed=6, count=1)
    assert other["images"][0] != b["images"][0]


def test_forward_process_noise_grows_with_t(client):
    early = call(client, "forward_process", example=7, t=10, seed=0)
    late = call(client, "forward_process", example=7, t=990, seed=0)
    assert early["class"] == "Sneaker"
    assert early["signal"] > 0.99 and late["signal"] < 0.1
    assert abs(early["signal"] ** 2 + early["noise_level"] ** 2 - 1) < 1e-6
    assert early["reconstruction_rmse"] < late["reconstruction_rmse"]


def test_compare_guidance_and_interpolation(client):
    result = call(client, "compare_guidance", prompt="a coat", steps=6, seed=2, count=2)
    assert result["scales"] == [0, 1, 3, 7] and [len(b) for b in result["images"]] == [2, 2, 2, 2]
    assert result["images"][0] != result["images"][3]
    morph = call(client, "interpolate_noise", prompt="a coat", seed_a=3, seed_b=4, frames=5, steps=6, guidance=3)
    ends = [call(client, "diffuse", prompt="a coat", guidance=3, steps=6, sampler="DDIM", eta=0, seed=s, count=1)
            for s in (3, 4)]
    assert len(morph["images"]) == 5
    # the same images; a batch of 5 and a batch of 1 may round a float differently, so one gray level is allowed
    for frame, end in ((morph["images"][0], ends[0]), (morph["images"][-1], ends[1])):
        assert np.abs(np.array(frame, int) - np.array(end["images"][0], int)).max() <= 1


@pytest.mark.parametrize("settings, words", [
    (dict(guidance="NaN"), ["guidance"]),
    (dict(guidance=16), ["guidance", "15"]),
    (dict(steps=0), ["steps"]),
    (dict(steps=1001), ["steps", "1000"]),
    (dict(sampler="Euler"), ["sampler", "DDIM"]),
    (dict(eta=2), ["eta"]),
    (dict(count=17), ["images", "16"]),
    (dict(prompt="x" * 301), ["prompt", "300"]),
    (dict(seed=-5), ["seed"]),
])
def test_bad_diffusion_settings_get_clear_errors(client, settings, words):
    kwargs = dict(prompt="a sneaker", guidance=3, steps=5, sampler="DDIM", eta=0, seed=0, count=1) | settings
    with pytest.raises(AppError) as excinfo:
        call(client, "diffuse", **kwargs)
    assert_clean_error(excinfo, *words)


def test_bad_forward_and_interpolation_inputs(client):
    with pytest.raises(AppError) as excinfo:
        call(client, "forward_process", example=10, t=5, seed=0)
    assert_clean_error(excinfo, "example")
    with pytest.raises(AppError) as excinfo:
        call(client, "forward_process", example=0, t=1000, seed=0)
    assert_clean_error(excinfo, "timestep")
    with pytest.raises(AppError) as excinfo:
        call(client, "interpolate_noise", prompt="a coat", seed_a=0, seed_b=1, frames=33, steps=5, guidance=3)
    assert_clean_error(excinfo, "frames")
    assert call(client, "diffuse", prompt="🎭 \x00 boots", guidance=3, steps=2, sampler="DDPM", eta=0, seed=0,
                count=1)["images"]


def test_the_film_strip_ends_on_the_final_image_even_with_few_steps():
    import numpy as np

    from genmodels.diffusion import requests as family
    from genmodels.ui import images
    from genmodels.ui.diffusion.views import film_strip

    result = family.diffuse_recorded(family.DiffusionRequest.build(prompt="a bag", steps=3, count=1))
    strip = np.asarray(film_strip(result.trajectory))
    final = np.asarray(images.upscale(images.to_uint8(result.trajectory.images)[0], 4))
    assert (strip[:final.shape[0], -final.shape[1]:] == final).all()  # the top row's last picture
