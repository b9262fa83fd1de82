"""The views inside the models through gradio_client: the diffusion map, the noise prediction, the GAN's manifold;
results that agree with the other endpoints, and clear errors for bad input."""
import base64
import json

import numpy as np
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from genmodels.ui.gan.plots import mesh_lines
from genmodels.ui.plots import array
from tests.test_app import assert_clean_error, call
from tests.test_gan_app import TOY

pytestmark = pytest.mark.app
MAP = dict(prompt="a bag", comparison="seeds", guidance=3.0, sampler="DDIM", steps=6, seed=2)


def test_diffusion_map_paths_end_at_the_images_that_diffuse_returns(client):
    result = call(client, "diffusion_map", **MAP)
    assert len(result["paths"]) == 8 and result["timesteps"][0] == 999 and result["seconds"] > 0
    plain = call(client, "diffuse", prompt="a bag", guidance=3.0, steps=6, sampler="DDIM", eta=0.0, seed=2, count=8)
    mean, components = (np.array(result["projection"][k]) for k in ("mean", "components"))
    for path, image in zip(result["paths"], plain["images"]):
        assert len(path["points"]) == 7 and path["group"] == "seed 2"
        assert np.abs(np.array(path["image"]) - np.array(image)).max() <= 1  # the same image, to a gray level
        pixels = np.array(path["image"]).flatten() / 127.5 - 1  # gray levels back to [-1, 1]
        assert np.allclose((pixels - mean) @ components.T, path["points"][-1], atol=0.15)  # 1/255 per pixel at most
    assert sum(result["explained_variance"]) <= 1


def test_noise_prediction_correlates_the_returned_noises(client):
    result = call(client, "noise_prediction", example=3, t=200, seed=5)
    noise, predicted = np.array(result["noise"]), np.array(result["eps_pred"])
    assert noise.shape == predicted.shape == (28, 28) and result["class"] == "Dress"
    assert result["correlation"] == pytest.approx(np.corrcoef(noise.flatten(), predicted.flatten())[0, 1], abs=1e-3)
    curve = result["curve"]
    assert len(curve["timesteps"]) == len(curve["correlations"]) == len(curve["noise_levels"]) == 50
    forward = call(client, "forward_process", example=3, t=200, seed=5)
    assert result["noise_level"] == forward["noise_level"]  # the same view of the same example


def test_gan_manifold_is_this_sessions_generator_on_the_grid(app_url):
    session = Client(app_url, verbose=False)
    with pytest.raises(AppError) as excinfo:
        call(session, "gan_manifold", grid_lines=10)
    assert_clean_error(excinfo, "train it first")
    *_, numbers, drawn = session.predict(**TOY, steps=30, api_name="/toy_gan_step")
    manifold = call(session, "gan_manifold", grid_lines=20)  # the run as the last step left it
    assert numbers["step"] == manifold["step"] == 30 and np.array(manifold["points"]).shape == (20, 20, 2)
    mesh = next(trace for trace in json.loads(drawn["plot"])["data"] if trace["mode"] == "lines")
    xs = np.frombuffer(base64.b64decode(mesh["x"]["bdata"]), dtype=mesh["x"]["dtype"])  # plotly's typed array
    assert np.array_equal(xs, array(mesh_lines(manifold["points"])[0]), equal_nan=True)  # the step drew that grid
    finer = call(session, "gan_manifold", grid_lines=33)
    assert np.array(finer["points"]).shape == (33, 33, 2) and not finer["is_slice"]
    session.predict(**(TOY | dict(latent_dim=5)), steps=10, api_name="/toy_gan_step")  # a new run: 5 coordinates
    assert call(session, "gan_manifold", grid_lines=4)["is_slice"]


@pytest.mark.parametrize("api, arguments, words", [
    ("diffusion_map", MAP | dict(comparison="seed"), ["comparison", "seeds", "guidance", "sampler"]),
    ("diffusion_map", MAP | dict(steps=101), ["steps", "100"]),
    ("diffusion_map", MAP | dict(steps="many"), ["steps"]),
    ("noise_prediction", dict(example=3, t=1000, seed=0), ["timestep", "999"]),
    ("noise_prediction", dict(example=10, t=10, seed=0), ["example", "9"]),
    ("gan_manifold", dict(grid_lines=65), ["grid lines", "64"]),
    ("gan_manifold", dict(grid_lines="x"), ["grid lines"]),
])
def test_bad_input_gets_a_clear_message(client, api, arguments, words):
    with pytest.raises(AppError) as excinfo:
        call(client, api, **arguments)
    assert_clean_error(excinfo, *words)
