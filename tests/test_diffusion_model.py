"""The diffusion networks: U-Net shapes, text conditioning and the null prompt, the tiny training run, checkpoints,
and the classifier-free guided denoiser."""
import json
import shutil
from dataclasses import replace

import pytest
import torch
import torch.nn.functional as F

from genmodels.checkpoint import CheckpointError, save_checkpoint
from genmodels.diffusion.captions import PHRASES, TEMPLATES, class_captions
from genmodels.diffusion.pretrained import load_diffusion_model, make_denoiser
from genmodels.diffusion.samplers import ddim_steps, respaced_timesteps
from genmodels.diffusion.text_encoder import (
    TextEncoder,
    class_similarity,
    encode_prompts,
    normalize_prompt,
    tokenize,
)
from genmodels.diffusion.train import PRESETS, caption_bank, draw_captions, train
from genmodels.diffusion.unet import UNet
from genmodels.text.tokenizer import decode, train_tokenizer
from tests.conftest import cpu_one_thread

TINY = PRESETS["tiny"]
PROMPTS = ["a sneaker", "a pair of trousers", "", "a photo of an ankle boot"]


@pytest.fixture(scope="module")
def tokenizer():
    """A small byte-level BPE learned on the captions, so the tests need no committed assets."""
    return train_tokenizer([c for label in range(10) for c in class_captions(label)], vocab_size=320)


def scrambled(module: torch.nn.Module, seed: int = 0) -> torch.nn.Module:
    """Add noise to every weight: zero-initialized output layers would otherwise hide the conditioning."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=generator))
    return module.eval()


@pytest.fixture(scope="module")
def models(tokenizer):
    text = scrambled(TextEncoder(replace(TINY.text, vocab_size=tokenizer.get_vocab_size())), seed=1)
    return scrambled(UNet(TINY.unet), seed=2), text


def synthetic_fashion(n: int = 320) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images (n, 28, 28): one smooth random blob per class plus pixel noise; labels (n,) cycle through 0..9."""
    generator = torch.Generator().manual_seed(0)
    blobs = F.interpolate(torch.rand(10, 1, 7, 7, generator=generator), size=28, mode="bilinear")[:, 0]
    labels = torch.arange(n) % 10
    images = blobs[labels] * 255 + 20 * torch.randn(n, 28, 28, generator=generator)
    return images.clamp(0, 255).to(torch.uint8), labels


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, tokenizer):
    out_dir = tmp_path_factory.mktemp("tiny") / "diffusion"
    with cpu_one_thread():
        log = train("tiny", out_dir, data=synthetic_fashion(), tokenizer=tokenizer)
    return out_dir, log


@pytest.mark.parametrize("batch", [1, 3, 8])
def test_unet_output_has_the_input_shape(models, batch):
    unet, _ = models
    x = torch.randn(batch, 1, 28, 28)
    t = torch.linspace(0, 999, batch).long()
    with torch.no_grad():
        eps = unet(x, t, torch.randn(batch, TINY.unet.cond_dim))
    assert eps.shape == x.shape and eps.dtype == x.dtype and torch.isfinite(eps).all()


def test_gpu_preset_fits_the_asset_size_limit():
    """fp16 weights of each committed network stay under 16 MiB."""
    gpu = PRESETS["gpu"]
    assert gpu.unet.cond_dim == gpu.text.cond_dim and gpu.unet.channels == (64, 128, 256)
    for net in (UNet(gpu.unet), TextEncoder(gpu.text)):
        assert 2 * net.num_params() < 16 * 2**20


def test_prompts_condition_the_noise_prediction(models, tokenizer):
    unet, text = models
    with torch.no_grad():
        cond = encode_prompts(text, tokenizer, PROMPTS, "cpu")  # (4, D)
        x = torch.randn(1, 1, 28, 28).expand(4, -1, -1, -1)
        eps = unet(x, torch.full((4,), 500), cond)
    assert cond.shape == (4, TINY.text.cond_dim)
    for i in range(4):
        for j in range(i + 1, 4):
            assert not torch.allclose(cond[i], cond[j], atol=1e-4), (PROMPTS[i], PROMPTS[j])
            assert not torch.allclose(eps[i], eps[j], atol=1e-4), (PROMPTS[i], PROMPTS[j])


def test_empty_prompt_is_the_learned_null_embedding(models, tokenizer):
    _, text = models
    with torch.no_grad():
        cond = encode_prompts(text, tokenizer, ["", "   ", "a bag"], "cpu")
    assert "null" in dict(text.named_parameters())
    assert torch.equal(cond[0], text.null) and torch.equal(cond[1], text.null)
    assert not torch.allclose(cond[2], text.null)


def test_padding_is_masked_and_prompts_are_normalized_and_truncated(models, tokenizer):
    _, text = models
    ids, mask = tokenize(tokenizer, ["a sneaker", "  A   SNEAKER ", "a very long prompt " * 20], text.config.max_tokens)
    assert torch.equal(ids[0], ids[1]) and torch.equal(mask[0], mask[1])
    assert mask[2].all() and not mask[0].all() and normalize_prompt(" A  Coat ") == "a coat"
    garbage = ids.clone()
    garbage[~mask] = 7  # what sits in the padding must not matter
    with torch.no_grad():
        assert torch.allclose(text(ids, mask), text(garbage, mask), atol=1e-6)


def test_class_similarity_compares_prompts_with_every_class(models, tokenizer):
    _, text = models
    with torch.no_grad():
        sim = class_similarity(text, tokenizer, ["a sneaker", ""], "cpu")
    assert sim.shape == (2, 10) and (sim.abs() <= 1 + 1e-5).all()


def test_captions_are_varied_and_belong_to_one_class():
    assert len(PHRASES) == 10
    assert all(len(set(phrases)) >= 8 for phrases in PHRASES)
    owners = {}
    for label, phrases in enumerate(PHRASES):
        for phrase in phrases:
            assert owners.setdefault(phrase, label) == label, phrase
    for label in range(10):
        captions = set(class_captions(label))
        assert len(captions) >= 8 * len(set(TEMPLATES)) and "" not in captions


def test_training_captions_match_labels_and_drop_to_empty(tokenizer):
    bank = caption_bank(tokenizer, TINY.text.max_tokens, "cpu")
    labels = torch.arange(2000) % 10
    torch.manual_seed(0)
    ids, mask = draw_captions(bank, labels, dropout=0.15)
    empty = ~mask.any(dim=1)
    assert 0.12 < empty.float().mean() < 0.18
    for row in range(200):
        if not empty[row]:
            text = decode(tokenizer, ids[row][mask[row]].tolist())
            assert text in {normalize_prompt(c) for c in class_captions(int(labels[row]))}, text


def test_tiny_training_lowers_the_loss_and_logs(tiny_run):
    out_dir, log = tiny_run
    steps, losses = log["train"]["step"], log["train"]["loss"]
    assert log["preset"] == "tiny" and log["device"] == "cpu" and steps == list(range(1, TINY.steps + 1))
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5
    assert json.loads((out_dir / "train_log.json").read_text()) == json.loads(json.dumps(log))
    for name in ("unet", "text_encoder"):
        assert (out_dir / f"{name}.safetensors").stat().st_size < 16 * 2**20


def test_tiny_checkpoint_loads_and_denoises(tiny_run, monkeypatch):
    out_dir, log = tiny_run
    monkeypatch.setenv("GENMODELS_DEVICE", "cpu")
    dm = load_diffusion_model(out_dir)
    assert dm.unet.num_params() == log["params"]["unet"] and dm.schedule.T == 1000
    with torch.inference_mode():
        cond = encode_prompts(dm.text_encoder, dm.tokenizer, ["a coat"], "cpu")
        eps = dm.unet(torch.randn(1, 1, 28, 28), torch.tensor([999]), cond)
    assert torch.isfinite(eps).all() and eps.abs().mean() > 0.1  # trained: no longer the zero-init output


def test_checkpoint_round_trip_gives_identical_eps(models, tokenizer, tmp_path, monkeypatch):
    unet, text = (m.half().float() for m in models)  # fp16-exact weights survive the fp16 files bit for bit
    meta = {"schedule": "cosine", "T": 1000}
    save_checkpoint(unet, unet.config, tmp_path / "unet", meta=meta)
    save_checkpoint(text, text.config, tmp_path / "text_encoder", meta=meta)
    tokenizer.save(str(tmp_path / "tokenizer.json"))
    monkeypatch.setenv("GENMODELS_DEVICE", "cpu")
    dm = load_diffusion_model(tmp_path)
    unet = unet.to(memory_format=torch.channels_last)  # as the app loads it on the CPU
    x, t = torch.randn(4, 1, 28, 28), torch.tensor([0, 10, 500, 999])
    with torch.no_grad():
        before = unet(x, t, encode_prompts(text, tokenizer, PROMPTS, "cpu"))
        after = dm.unet(x, t, encode_prompts(dm.text_encoder, dm.tokenizer, PROMPTS, "cpu"))
    assert torch.equal(before, after)


@pytest.mark.parametrize("scale", [0.0, 1.0, 3.0])
def test_guided_denoiser_batches_cond_and_uncond(models, tokenizer, scale):
    unet, text = models
    with torch.no_grad():
        cond = encode_prompts(text, tokenizer, PROMPTS[:2] + PROMPTS[3:], "cpu")  # (3, D)
        uncond = encode_prompts(text, tokenizer, [""], "cpu")  # (1, D)
        x, t = torch.randn(3, 1, 28, 28), torch.tensor([999, 400, 20])
        eps_cond, eps_uncond = unet(x, t, cond), unet(x, t, uncond.expand(3, -1))
    eps = make_denoiser(unet, cond, uncond, scale)(x, t)
    if scale == 1.0:
        assert torch.equal(eps, eps_cond)
    elif scale == 0.0:
        assert torch.equal(eps, eps_uncond)
    else:
        assert torch.allclose(eps, eps_uncond + scale * (eps_cond - eps_uncond), atol=1e-5)


def test_guided_denoiser_drives_the_samplers(tiny_run, monkeypatch):
    out_dir, _ = tiny_run
    monkeypatch.setenv("GENMODELS_DEVICE", "cpu")
    dm = load_diffusion_model(out_dir)
    with torch.inference_mode():
        cond = encode_prompts(dm.text_encoder, dm.tokenizer, ["a sneaker", "a bag"], "cpu")
        uncond = encode_prompts(dm.text_encoder, dm.tokenizer, [""], "cpu")
    denoise = make_denoiser(dm.unet, cond, uncond, 3.0)
    x_T = torch.randn(2, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    steps = list(ddim_steps(denoise, x_T, dm.schedule, respaced_timesteps(dm.schedule.T, 4)))
    assert [s.t for s in steps] == [999, 666, 333, 0] and steps[-1].x_prev.shape == x_T.shape
    assert torch.isfinite(steps[-1].x_prev).all() and steps[-1].x_prev.abs().max() <= 1 + 1e-5


def test_a_corrupt_diffusion_tokenizer_names_its_file_and_the_diffusion_command(tmp_path):
    shutil.copytree("assets/diffusion", tmp_path / "diffusion")
    (tmp_path / "diffusion" / "tokenizer.json").write_text('{"model": {"type": "BPE", "vocab": ')  # cut short
    with pytest.raises(CheckpointError, match="tokenizer.json is unreadable .*genmodels.diffusion.train"):
        load_diffusion_model(tmp_path / "diffusion")
