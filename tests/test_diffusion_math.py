"""Diffusion math against the papers and diffusers' schedulers (a test-only oracle); the Fashion-MNIST loader."""
import gzip
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler, DDPMScheduler

from genmodels.data import fashion_mnist
from genmodels.data.fashion_mnist import CLASS_NAMES, find_data_dir, load_split, read_idx, to_model_range, to_uint8
from genmodels.diffusion.samplers import (
    classifier_free_guidance,
    ddim_steps,
    ddpm_steps,
    respaced_timesteps,
    sample_ddim,
    sample_ddpm,
)
from genmodels.diffusion.schedule import (
    cosine_schedule,
    forward_step,
    linear_schedule,
    predict_x0,
    q_sample,
    signal_noise_levels,
)

ROOT = Path(__file__).resolve().parents[1]
SCHEDULES = {"squaredcos_cap_v2": cosine_schedule, "linear": linear_schedule}  # diffusers' name -> ours
SHAPE = (2, 1, 4, 4)


def fake_denoise(x, t):
    """A deterministic stand-in for the U-Net: eps = 0.3 x_t + 0.1 sin(t)."""
    return 0.3 * x + 0.1 * torch.sin(t.to(x.dtype)).view(-1, 1, 1, 1)


def x_T(dtype=torch.float64):
    return torch.randn(SHAPE, generator=torch.Generator().manual_seed(0), dtype=dtype)


def oracle(scheduler_class, name, schedule, **config):
    """A diffusers scheduler whose alphas_cumprod is our float64 one, so only the update rules are compared."""
    scheduler = scheduler_class(beta_schedule=name, **config)
    scheduler.alphas_cumprod = schedule.alphas_cumprod
    return scheduler


# --- schedules and the forward process ---


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_equal_diffusers(name):
    ours, theirs = SCHEDULES[name](), DDPMScheduler(beta_schedule=name)
    assert ours.T == 1000 and ours.betas.dtype == ours.alphas_cumprod.dtype == torch.float64
    torch.testing.assert_close(ours.betas.float(), theirs.betas, rtol=1e-6, atol=1e-8)
    torch.testing.assert_close(ours.alphas, 1 - ours.betas)
    # diffusers' cumprod runs in float32, which drifts by ~1e-5 relative over 1000 steps
    torch.testing.assert_close(ours.alphas_cumprod, theirs.alphas_cumprod.double(), rtol=5e-5, atol=0)
    torch.testing.assert_close(ours.alphas_cumprod, torch.cumprod(1 - ours.betas, 0), rtol=1e-12, atol=0)
    signal, noise = signal_noise_levels(ours)
    torch.testing.assert_close(signal**2 + noise**2, torch.ones(1000, dtype=torch.float64))
    assert (signal.diff() < 0).all() and signal[0] > 0.99 and noise[-1] > 0.99


def test_cosine_index_zero_is_the_papers_first_step():
    """abar[t] = f(t + 1) / f(0): our index t is the paper's t + 1 (only the last beta hits the 0.999 cap)."""
    schedule = cosine_schedule()
    f = torch.cos((torch.arange(1001, dtype=torch.float64) / 1000 + 0.008) / 1.008 * math.pi / 2) ** 2
    torch.testing.assert_close(schedule.alphas_cumprod[:-1], f[1:-1] / f[0], rtol=1e-10, atol=0)
    assert schedule.betas[-1] == 0.999 and schedule.abar(-1) == 1.0


@pytest.mark.parametrize("make", [cosine_schedule, linear_schedule])
def test_forward_recursion_and_closed_form_agree_in_mean_and_variance(make):
    """Push 20,000 copies of one x0 through forward_step t + 1 times and through q_sample once: both must have
    mean sqrt(abar_t) x0 and std sqrt(1 - abar_t), within 5 standard errors."""
    schedule, n = make(), 20_000
    g = torch.Generator().manual_seed(0)
    x0 = torch.tensor([-1.0, -0.3, 0.5, 1.0], dtype=torch.float64).expand(n, 4)  # (N, 4)
    x = x0
    for t in range(500):
        t_batch = torch.full((n,), t)
        x = forward_step(schedule, x, t_batch, torch.randn(x.shape, generator=g, dtype=torch.float64))
        if t in (0, 9, 99, 499):
            closed = q_sample(schedule, x0, t_batch, torch.randn(x.shape, generator=g, dtype=torch.float64))
            abar = schedule.alphas_cumprod[t]
            mean, std = abar.sqrt() * x0[0], (1 - abar).sqrt()
            for samples in (x, closed):
                assert (samples.mean(0) - mean).abs().max() < 5 * std / math.sqrt(n)
                assert (samples.std(0) - std).abs().max() < 5 * std / math.sqrt(2 * n)


@pytest.mark.parametrize("make", [cosine_schedule, linear_schedule])
def test_predict_x0_inverts_q_sample_and_q_sample_equals_diffusers_add_noise(make):
    schedule = make()
    g = torch.Generator().manual_seed(1)
    x0 = torch.rand(1000, 1, 2, 2, generator=g, dtype=torch.float64) * 2 - 1
    noise = torch.randn(x0.shape, generator=g, dtype=torch.float64)
    t = torch.arange(1000)  # every timestep once
    x_t = q_sample(schedule, x0, t, noise)
    torch.testing.assert_close(predict_x0(schedule, x_t, t, noise), x0, rtol=0, atol=1e-9)
    scheduler = DDPMScheduler()
    scheduler.alphas_cumprod = schedule.alphas_cumprod
    torch.testing.assert_close(x_t, scheduler.add_noise(x0, noise, t), rtol=0, atol=1e-12)


# --- samplers against diffusers ---


@pytest.mark.parametrize("name, steps, clip", [("squaredcos_cap_v2", 10, True), ("squaredcos_cap_v2", 1000, True),
                                               ("linear", 50, False), ("linear", 1000, False)])
def test_ddpm_equals_diffusers_step_by_step(name, steps, clip):
    """Our ddpm_steps against DDPMScheduler(variance_type="fixed_small") with set_timesteps(timesteps=ours).

    Shared noise: diffusers' step draws randn_tensor(shape, generator, dtype) = torch.randn on the CPU generator,
    once per step with t > 0; ddpm_steps draws the same torch.randn once per step with t_prev >= 0. With timesteps
    ending at 0 those are the same steps, so two generators seeded alike feed both the same noise. The oracle gets
    our float64 alphas_cumprod (test_schedules_equal_diffusers checks it equals theirs to float32 precision):
    diffusers' float32 beta' = 1 - abar_t / abar_prev loses ~3e-4 near t = 0, which would swamp the 1e-5 check.
    A noise mismatch cannot hide: the steps' sigma is checked to be large."""
    schedule = SCHEDULES[name]()
    timesteps = respaced_timesteps(1000, steps)
    scheduler = oracle(DDPMScheduler, name, schedule, variance_type="fixed_small", clip_sample=clip)
    scheduler.set_timesteps(timesteps=timesteps)
    theirs, generator = x_T(), torch.Generator().manual_seed(1)
    records = list(ddpm_steps(fake_denoise, x_T(), schedule, timesteps, torch.Generator().manual_seed(1), clip))
    assert [(r.index, r.t, r.t_prev) for r in records] == list(zip(range(steps), timesteps, timesteps[1:] + [-1]))
    for r in records:
        out = scheduler.step(fake_denoise(theirs, torch.full((2,), r.t)), r.t, theirs, generator=generator)
        torch.testing.assert_close(r.x_t, theirs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(r.x0_pred, out.pred_original_sample, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(r.x_prev, out.prev_sample, rtol=1e-5, atol=1e-5)
        assert r.noise_level == pytest.approx(math.sqrt(1 - schedule.abar(r.t)))
        theirs = out.prev_sample
    assert min(r.sigma for r in records[:-1]) > 1e-3 and records[-1].sigma == 0
    assert records[0].x0_pred.abs().max() <= 1 if clip else records[0].x0_pred.abs().max() > 1


@pytest.mark.parametrize("spacing", ["trailing", "respaced"])
@pytest.mark.parametrize("name, eta, clip", [("squaredcos_cap_v2", 0.0, True), ("squaredcos_cap_v2", 0.5, True),
                                             ("linear", 0.5, False)])
def test_ddim_equals_diffusers_step_by_step(spacing, name, eta, clip):
    """Our ddim_steps against DDIMScheduler.step(eta, use_clipped_model_output=True, variance_noise=...).

    diffusers' DDIM step takes t_prev = t - T // num_inference_steps, so the timesteps must be evenly spaced:
    'trailing' is diffusers' own set_timesteps(10) list [999, 899, ..., 99] (the last step goes to t_prev = -1);
    'respaced' is our respaced_timesteps(1000, 10) = [999, 888, ..., 111, 0], whose gap 111 = 1000 // 9, so
    num_inference_steps is set to 9 by hand. set_alpha_to_one=True is abar_prev = 1 after the last step.
    Shared noise: a twin of our generator draws the same torch.randn once per noisy step, passed as variance_noise.
    The oracle gets our float64 alphas_cumprod (see the DDPM test)."""
    schedule = SCHEDULES[name]()
    scheduler = oracle(DDIMScheduler, name, schedule, timestep_spacing="trailing", clip_sample=clip,
                       set_alpha_to_one=True)
    scheduler.set_timesteps(10)
    timesteps = scheduler.timesteps.tolist()
    if spacing == "respaced":
        timesteps, scheduler.num_inference_steps = respaced_timesteps(1000, 10), 9
        assert 1000 // scheduler.num_inference_steps == timesteps[0] - timesteps[1] == timesteps[-2] - timesteps[-1]
    generator, twin = (torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)) if eta else (None, None)
    records = list(ddim_steps(fake_denoise, x_T(), schedule, timesteps, eta, generator, clip))
    theirs = x_T()
    for r in records:
        noise = torch.zeros(SHAPE, dtype=torch.float64)
        if r.sigma > 0:
            noise = torch.randn(SHAPE, generator=twin, dtype=torch.float64)
        out = scheduler.step(fake_denoise(theirs, torch.full((2,), r.t)), r.t, theirs, eta=eta,
                             use_clipped_model_output=True, variance_noise=noise)
        torch.testing.assert_close(r.x_t, theirs, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(r.x0_pred, out.pred_original_sample, rtol=1e-5, atol=1e-5)
        torch.testing.assert_close(r.x_prev, out.prev_sample, rtol=1e-5, atol=1e-5)
        theirs = out.prev_sample
    assert records[-1].t_prev == -1 and records[-1].sigma == 0
    assert (min(r.sigma for r in records[:-1]) > 1e-3) == (eta > 0)


def test_ddim_clipping_recomputes_eps_and_ends_at_abar_one():
    """The two conventions the DDIM test relies on change the result: eps re-derived from the clipped x0
    (use_clipped_model_output=True, not diffusers' default) and abar_prev = 1 at the end (set_alpha_to_one=True)."""
    schedule = cosine_schedule()
    [first, _, last] = list(ddim_steps(fake_denoise, x_T(), schedule, [999, 499, 0]))
    scheduler = oracle(DDIMScheduler, "squaredcos_cap_v2", schedule, set_alpha_to_one=False)
    scheduler.set_timesteps(2)  # t_prev = t - 500: 999 -> 499, and 0 -> -500 (the end)
    scheduler.final_alpha_cumprod = schedule.alphas_cumprod[0]  # what set_alpha_to_one=False means, in float64
    eps = fake_denoise(first.x_t, torch.full((2,), 999))
    for clipped_eps in (True, False):
        out = scheduler.step(eps, 999, first.x_t, use_clipped_model_output=clipped_eps)
        assert torch.allclose(out.prev_sample, first.x_prev, rtol=1e-5, atol=1e-5) == clipped_eps
    eps = fake_denoise(last.x_t, torch.full((2,), 0))
    end = scheduler.step(eps, 0, last.x_t, use_clipped_model_output=True).prev_sample  # abar_prev = abar[0]
    assert (end - last.x_prev).abs().max() > 1e-4
    torch.testing.assert_close(last.x_prev, last.x0_pred)  # abar_prev = 1: the last step returns x0_hat


# --- sampler properties ---


def test_ddim_eta_zero_is_deterministic_and_noise_comes_only_from_the_generator():
    schedule, timesteps = cosine_schedule(), respaced_timesteps(1000, 20)
    runs = [sample_ddim(fake_denoise, x_T(), schedule, timesteps, 0.0, g)
            for g in (None, torch.Generator().manual_seed(1), torch.Generator().manual_seed(2))]
    assert torch.equal(runs[0], runs[1]) and torch.equal(runs[0], runs[2])
    noisy = [sample_ddim(fake_denoise, x_T(), schedule, timesteps, 0.5, torch.Generator().manual_seed(s))
             for s in (1, 1, 2)]
    assert torch.equal(noisy[0], noisy[1]) and not torch.allclose(noisy[0], noisy[2])
    ddpm = [sample_ddpm(fake_denoise, x_T(), schedule, timesteps, torch.Generator().manual_seed(s)) for s in (1, 1, 2)]
    assert torch.equal(ddpm[0], ddpm[1]) and not torch.allclose(ddpm[0], ddpm[2])
    last = list(ddpm_steps(fake_denoise, x_T(), schedule, timesteps, torch.Generator().manual_seed(1)))[-1]
    assert torch.equal(last.x_prev, ddpm[0])
    with pytest.raises(ValueError, match="Generator"):
        sample_ddim(fake_denoise, x_T(), schedule, timesteps, 0.5, None)
    with pytest.raises(ValueError, match="eta"):
        sample_ddim(fake_denoise, x_T(), schedule, timesteps, 1.5, torch.Generator())


@pytest.mark.parametrize("timesteps", [[], [1000], [5, 5, 0], [0, 5], [3, -1]])
def test_samplers_reject_timesteps_that_are_not_strictly_decreasing_in_range(timesteps):
    for sample in (sample_ddpm, sample_ddim):
        with pytest.raises(ValueError, match="strictly decreasing"):
            sample(fake_denoise, x_T(), cosine_schedule(), timesteps, generator=torch.Generator())


def test_guidance_scale_one_is_conditional_and_zero_unconditional():
    g = torch.Generator().manual_seed(0)
    eps_uncond, eps_cond = torch.randn(2, *SHAPE, generator=g)
    assert torch.equal(classifier_free_guidance(eps_uncond, eps_cond, 1.0), eps_cond)
    assert torch.equal(classifier_free_guidance(eps_uncond, eps_cond, 0.0), eps_uncond)
    for scale in (0.5, 3.0, 7.5):
        torch.testing.assert_close(classifier_free_guidance(eps_uncond, eps_cond, scale),
                                   eps_uncond + scale * (eps_cond - eps_uncond))


@pytest.mark.parametrize("T, steps", [(1000, 1), (1000, 2), (1000, 3), (1000, 10), (1000, 37), (1000, 999),
                                      (1000, 1000), (7, 4), (7, 6)])
def test_respaced_timesteps(T, steps):
    timesteps = respaced_timesteps(T, steps)
    assert len(timesteps) == steps and timesteps[0] == T - 1 and all(isinstance(t, int) for t in timesteps)
    assert all(a > b for a, b in zip(timesteps, timesteps[1:]))
    if steps > 1:
        assert timesteps[-1] == 0
        gaps = [a - b for a, b in zip(timesteps, timesteps[1:])]
        assert max(gaps) - min(gaps) <= 1  # evenly spaced up to rounding
    if steps == T:
        assert timesteps == list(range(T - 1, -1, -1))


def test_respaced_timesteps_validates_the_step_count():
    assert respaced_timesteps(1000, 10) == [999, 888, 777, 666, 555, 444, 333, 222, 111, 0]
    for steps in (0, 1001):
        with pytest.raises(ValueError, match="between 1 and"):
            respaced_timesteps(1000, steps)


def test_diffusion_and_data_modules_import_without_gradio_diffusers_or_torchvision():
    code = ("import sys; sys.modules.update(gradio=None, diffusers=None, torchvision=None); import "
            "genmodels.diffusion.schedule, genmodels.diffusion.samplers, genmodels.data.fashion_mnist; print('ok')")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "ok", result.stderr


# --- Fashion-MNIST ---


def write_idx(path: Path, array: np.ndarray):
    header = bytes([0, 0, 8, array.ndim]) + b"".join(d.to_bytes(4, "big") for d in array.shape)
    data = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def fake_fashion_dir(folder: Path, n: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Write made-up train (gzipped) and test (plain) IDX files into folder; return the train arrays."""
    images = np.arange(n * 28 * 28, dtype=np.int64).reshape(n, 28, 28) % 256
    labels = np.arange(n) % 10
    for prefix, ext in (("train", ".gz"), ("t10k", "")):
        write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
        write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


def test_idx_files_load_gzipped_or_plain(tmp_path):
    images, labels = fake_fashion_dir(tmp_path)
    for split in ("train", "test"):
        x, y = load_split(split, tmp_path)
        assert x.dtype == torch.uint8 and y.dtype == torch.int64
        assert np.array_equal(x.numpy(), images) and np.array_equal(y.numpy(), labels)
    with pytest.raises(ValueError, match="split"):
        load_split("val", tmp_path)


def test_idx_parser_rejects_broken_files(tmp_path):
    bad = tmp_path / "bad"
    write_idx(bad, np.zeros((2, 3), dtype=np.uint8))
    bad.write_bytes(bad.read_bytes()[:-1])
    with pytest.raises(ValueError, match="promises 6"):
        read_idx(bad)
    bad.write_bytes(b"\x00\x00\x0d\x01\x00\x00\x00\x01")  # type 0x0d is float32
    with pytest.raises(ValueError, match="unsigned-byte"):
        read_idx(bad)


def test_missing_dataset_names_both_ways_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        load_split("train", tmp_path)
    message = str(err.value)
    assert "apt-get install dataset-fashion-mnist" in message and "python -m genmodels.data.fashion_mnist" in message
    assert str(tmp_path) in message


def test_main_prints_where_the_data_is_and_fetches_when_missing(tmp_path, monkeypatch, capsys):
    fake_fashion_dir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["fashion_mnist"])
    monkeypatch.setattr(fashion_mnist, "find_data_dir", lambda: None)
    monkeypatch.setattr(fashion_mnist, "download", lambda: tmp_path)
    fashion_mnist.main()
    assert capsys.readouterr().out.strip() == f"Fashion-MNIST in {tmp_path}: train 3 images, test 3 images"


def test_model_range_round_trip():
    u = (torch.arange(2 * 28 * 28) % 256).to(torch.uint8).reshape(2, 28, 28)  # every value 0..255
    x = to_model_range(u)
    assert x.shape == (2, 1, 28, 28) and x.dtype == torch.float32
    assert x.min() == -1 and x.max() == 1 and x[0, 0, 0, 1] == pytest.approx(1 / 127.5 - 1)
    assert torch.equal(to_uint8(x), u)
    assert to_uint8(torch.tensor([-3.0, 0.0, 2.0]).view(1, 1, 1, 3)).tolist() == [[[0, 128, 255]]]


@pytest.fixture(scope="module")
def fashion_dir():
    """The installed dataset; under CI=true a missing one fails instead of skipping."""
    folder = find_data_dir()
    if folder is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Fashion-MNIST is missing: {fashion_mnist.FETCH_HINT}")
        pytest.skip("Fashion-MNIST is not installed")
    return folder


def test_real_dataset_has_the_published_splits(fashion_dir):
    assert len(CLASS_NAMES) == 10 and CLASS_NAMES[0] == "T-shirt/top" and CLASS_NAMES[9] == "Ankle boot"
    for split, n in (("train", 60_000), ("test", 10_000)):
        images, labels = load_split(split, fashion_dir)
        assert images.shape == (n, 28, 28) and images.dtype == torch.uint8 and labels.shape == (n,)
        assert torch.bincount(labels, minlength=10).tolist() == [n // 10] * 10  # balanced: 10% per class
        assert abs(images.double().mean().item() - 0.286 * 255) < 1.5  # published pixel mean 0.286
