"""The DCGAN: network shapes and init, the latent space (seeds, interpolation paths, the looping walk), the GAN
losses against their formulas, the tiny training run and its replay sprite, and the cached loader."""
import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image

from genmodels.checkpoint import CheckpointError
from genmodels.data.fashion_mnist import to_uint8
from genmodels.gan.dcgan import Discriminator, GANConfig, Generator, LatentMap, weights_init
from genmodels.gan.latent import interpolation_path, latent_walk, lerp, sample_latents, slerp
from genmodels.gan.losses import discriminator_loss, generator_loss
from genmodels.gan.pretrained import generate, load_gan, p_real
from genmodels.gan.collapse import PRESETS as COLLAPSE_PRESETS
from genmodels.gan.collapse import collapse_snapshot_steps, make_collapsed
from genmodels.gan.runlog import render_grid, snapshot_steps
from genmodels.gan.train import PRESETS, train
from genmodels.interpolate import lerp as shared_lerp
from genmodels.interpolate import slerp as shared_slerp
from genmodels.runtime import make_generator
from tests.conftest import cpu_one_thread

TINY = PRESETS["tiny"]
COLLAPSE_TINY = COLLAPSE_PRESETS["tiny"]
LOG_KEYS = {"preset", "device", "kind", "settings", "config", "params", "train_images", "train", "snapshots",
            "seconds", "steps_per_second", "generator", "discriminator"}


def synthetic_fashion(n: int = 256) -> torch.Tensor:
    """uint8 images (n, 28, 28): one of ten smooth random blobs each, plus pixel noise."""
    generator = torch.Generator().manual_seed(0)
    blobs = F.interpolate(torch.rand(10, 1, 7, 7, generator=generator), size=28, mode="bilinear")[:, 0]
    images = blobs[torch.arange(n) % 10] * 255 + 20 * torch.randn(n, 28, 28, generator=generator)
    return images.clamp(0, 255).to(torch.uint8)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    out_dir = tmp_path_factory.mktemp("tiny") / "gan"
    with cpu_one_thread():
        healthy = train("tiny", out_dir, images=synthetic_fashion())
        collapsed = make_collapsed("tiny", out_dir, images=synthetic_fashion())
    return out_dir, healthy, collapsed


@pytest.mark.parametrize("batch", [1, 3, 16])
@pytest.mark.parametrize("config", [GANConfig(), TINY.model, GANConfig(latent_dim=8, ngf=8, latent_map=True)])
def test_generator_and_discriminator_shapes(batch, config):
    G, D = Generator(config), Discriminator(config)
    for mode in (True, False):
        G.train(mode), D.train(mode)
        with torch.no_grad():
            images = G(torch.randn(batch, config.latent_dim))
            logits = D(images)
        assert images.shape == (batch, 1, 28, 28) and logits.shape == (batch,)
        assert images.abs().max() <= 1 and torch.isfinite(logits).all()  # tanh output: the data range [-1, 1]


def test_batch_norm_is_built_with_its_default_eps_and_momentum():
    norms = [m for net in (Generator(GANConfig()), Discriminator(GANConfig())) for m in net.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    assert len(norms) == 3 and all(m.eps == 1e-5 and m.momentum == 0.1 for m in norms)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in Discriminator(GANConfig()).net[:2])  # first layer


def test_weights_init_draws_the_dcgan_statistics():
    torch.manual_seed(0)
    convs, norm_weights, biases = [], [], []
    for net in (Generator(GANConfig()), Discriminator(GANConfig())):
        net.apply(weights_init)
        for m in net.modules():
            if isinstance(m, (torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                convs.append(m.weight.flatten())
                biases += [] if m.bias is None else [m.bias]
            elif isinstance(m, torch.nn.BatchNorm2d):
                norm_weights.append(m.weight)
                biases.append(m.bias)
    conv, norm = torch.cat(convs), torch.cat(norm_weights).detach()
    assert abs(conv.mean().item()) < 1e-3 and conv.std().item() == pytest.approx(0.02, rel=0.01)
    assert norm.mean().item() == pytest.approx(1.0, abs=0.005) and norm.std().item() == pytest.approx(0.02, rel=0.2)
    assert all((b == 0).all() for b in biases)


def test_latent_row_i_depends_only_on_seed_and_i():
    z = sample_latents(7, 5, 16)
    assert z.shape == (5, 16)
    assert torch.equal(sample_latents(7, 3, 16), z[:3])
    assert torch.equal(z[4], torch.randn(16, generator=make_generator(7 * 1000 + 4)))
    assert not torch.allclose(sample_latents(8, 1, 16)[0], z[0])


def test_latent_reexports_the_shared_interpolation():
    assert lerp is shared_lerp and slerp is shared_slerp


@pytest.mark.parametrize("kind", ["linear", "spherical"])
@pytest.mark.parametrize("frames", [2, 5, 64])
def test_interpolation_path_endpoints_are_exact(kind, frames):
    z_a, z_b = sample_latents(1, 2, 32)
    path = interpolation_path(z_a, z_b, frames, kind)
    assert path.shape == (frames, 32)
    assert torch.equal(path[0], z_a) and torch.equal(path[-1], z_b)


def test_spherical_path_keeps_the_norm_of_equal_norm_latents_and_linear_cuts_inside():
    z_a, z_b = sample_latents(3, 2, 64)
    z_b = z_b / z_b.norm() * z_a.norm()
    spherical, linear = interpolation_path(z_a, z_b, 9, "spherical"), interpolation_path(z_a, z_b, 9, "linear")
    torch.testing.assert_close(spherical.norm(dim=1), z_a.norm().expand(9), rtol=1e-5, atol=1e-5)
    assert linear[4].norm() < 0.9 * z_a.norm()


@pytest.mark.parametrize("frames, kind", [(1, "linear"), (0, "spherical"), (5, "cubic")])
def test_interpolation_path_rejects_bad_arguments(frames, kind):
    with pytest.raises(ValueError):
        interpolation_path(torch.zeros(4), torch.ones(4), frames, kind)


def test_latent_walk_passes_through_its_points_and_loops():
    points, legs = 4, 40
    walk = latent_walk(5, points, legs, 32)
    anchors = sample_latents(5, points, 32)
    assert walk.shape == (points * legs, 32)
    for k in range(points):
        torch.testing.assert_close(walk[k * legs], anchors[k])
    steps = (walk.roll(-1, dims=0) - walk).norm(dim=1)  # steps[-1]: from the last frame back to the first
    assert steps[-1] == pytest.approx(steps[-2].item(), rel=0.05)
    assert steps[-1] == pytest.approx(steps.mean().item(), rel=0.5)  # no jump where the loop closes
    with pytest.raises(ValueError):
        latent_walk(5, 1, legs, 32)


def test_generator_losses_equal_their_formulas():
    logits = torch.tensor([-10.0, -3.0, -0.5, 0.0, 2.0, 5.0], requires_grad=True)
    d = logits.sigmoid()
    torch.testing.assert_close(generator_loss(logits, "non-saturating"), -d.log().mean())
    torch.testing.assert_close(generator_loss(logits, "minimax"), (1 - d).log().mean())
    real = torch.tensor([3.0, 0.5, -1.0])
    torch.testing.assert_close(discriminator_loss(real, logits), -real.sigmoid().log().mean() - (1 - d).log().mean())
    # where D confidently rejects a fake (logit -10), minimax's gradient vanishes and non-saturating's does not
    minimax, = torch.autograd.grad(generator_loss(logits, "minimax"), logits)
    saturating, = torch.autograd.grad(generator_loss(logits, "non-saturating"), logits)
    n = len(logits)  # both losses are batch means: each logit's gradient carries a factor 1/n
    assert abs(minimax[0]) * n < 1e-4 and abs(saturating[0]) * n > 0.99
    with pytest.raises(ValueError):
        generator_loss(logits, "wasserstein")


def test_snapshot_steps_run_from_start_to_end_densest_early():
    steps = snapshot_steps(6000, 25)
    assert steps[0] == 0 and steps[-1] == 6000 and len(steps) == 25 and steps == sorted(set(steps))
    gaps = np.diff(steps)
    assert (np.diff(gaps) >= 0).all() and gaps[0] < gaps[-1] / 10


def test_render_grid_tiles_row_by_row():
    images = torch.linspace(-1, 1, 9)[:, None, None, None].expand(9, 1, 28, 28)
    grid = render_grid(images, 3)
    assert grid.shape == (84, 84) and grid.dtype == np.uint8
    assert grid[0, 29] == to_uint8(images[1:2])[0, 0, 0] and grid[28, 0] == to_uint8(images[3:4])[0, 0, 0]


def test_tiny_run_writes_weights_log_and_sprite(tiny_run):
    out_dir, healthy, collapsed = tiny_run
    for log in (healthy, collapsed):
        prefix = log["kind"]
        for suffix in ("generator.safetensors", "generator.json", "discriminator.safetensors",
                       "discriminator.json", "train_log.json", "progress.png"):
            assert (out_dir / f"{prefix}_{suffix}").stat().st_size > 0, suffix
        assert json.loads((out_dir / f"{prefix}_train_log.json").read_text()) == json.loads(json.dumps(log))
        assert LOG_KEYS <= set(log)
        train_log, steps = log["train"], log["settings"]["steps"]
        assert train_log["step"] == list(range(TINY.log_interval, steps + 1, TINY.log_interval))
        assert all(len(train_log[k]) == len(train_log["step"]) for k in ("d_loss", "g_loss", "d_real", "d_fake"))
        assert all(0 < p < 1 for p in train_log["d_real"] + train_log["d_fake"])
        snapshots = log["snapshots"]
        assert snapshots["step"][-1] == steps and len(snapshots["step"]) == TINY.snapshots
        sprite = np.asarray(Image.open(out_dir / snapshots["sprite"]))
        side = snapshots["grid"] * snapshots["image_size"]
        assert sprite.dtype == np.uint8 and sprite.shape == (len(snapshots["step"]) * side, side)
        config = GANConfig(**log["config"])  # the collapse recipe adds G's latent map
        assert log["params"] == {"generator": Generator(config).num_params(),
                                 "discriminator": Discriminator(config).num_params()}
    assert healthy["kind"] == "healthy" and healthy["settings"]["loss"] == "non-saturating"
    assert collapsed["kind"] == "collapsed" and collapsed["settings"]["collapse"] and "collapse_recipe" in collapsed
    assert collapsed["config"]["latent_map"] and not healthy["config"]["latent_map"]
    assert snapshot_steps(TINY.steps, TINY.snapshots) == healthy["snapshots"]["step"]
    assert collapsed["snapshots"]["step"] == collapse_snapshot_steps(COLLAPSE_TINY)
    assert collapsed["settings"]["steps"] == COLLAPSE_TINY.d_steps + COLLAPSE_TINY.g_steps


def test_the_collapse_recipe_trains_only_d_then_only_the_latent_map(tiny_run):
    out_dir, *_ = tiny_run
    healthy, collapsed = load_gan("healthy", out_dir), load_gan("collapsed", out_dir)
    for name, weight in healthy.generator.net.state_dict().items():  # G draws with the healthy weights
        assert torch.equal(collapsed.generator.net.state_dict()[name], weight), name
    assert not torch.equal(collapsed.generator.latent_map.linear.weight, torch.eye(TINY.model.latent_dim))
    assert any(not torch.equal(collapsed.discriminator.state_dict()[name], weight)
               for name, weight in healthy.discriminator.state_dict().items())


def test_the_latent_map_keeps_every_latent_at_the_typical_norm():
    latent_map = LatentMap(64)
    z = torch.randn(32, 64)
    torch.testing.assert_close(latent_map(z), z * 8 / z.norm(dim=1, keepdim=True))  # the identity at the start
    with torch.no_grad():
        latent_map.linear.weight.mul_(0.01).add_(torch.randn(64, 64))
    assert torch.allclose(latent_map(z).norm(dim=1), torch.full((32,), 8.0))


def test_load_gan_round_trip_reproduces_the_last_snapshot(tiny_run):
    out_dir, healthy, _ = tiny_run
    gan = load_gan("healthy", out_dir)
    assert load_gan("healthy", out_dir) is gan and not gan.generator.training and not gan.discriminator.training
    assert gan.record["meta"]["steps"] == TINY.steps and gan.config == TINY.model
    z = sample_latents(TINY.snapshot_seed, TINY.grid ** 2, gan.config.latent_dim)
    images = generate(gan, z)
    assert torch.equal(images, generate(gan, z)) and images.shape == (TINY.grid ** 2, 1, 28, 28)
    side = TINY.grid * 28
    last = np.asarray(Image.open(out_dir / healthy["snapshots"]["sprite"]))[-side:]
    assert np.abs(render_grid(images, TINY.grid).astype(int) - last).max() <= 2  # fp16 weights, within 2 levels
    probabilities = p_real(gan, images)
    assert probabilities.shape == (len(z),) and ((probabilities > 0) & (probabilities < 1)).all()
    torch.testing.assert_close(p_real(gan, to_uint8(images)), probabilities, atol=0.01, rtol=0)


def test_load_gan_names_the_kind_and_the_remake_command(tmp_path):
    with pytest.raises(ValueError):
        load_gan("sleepy", tmp_path)
    with pytest.raises(CheckpointError, match="gan.collapse"):
        load_gan("collapsed", tmp_path)
