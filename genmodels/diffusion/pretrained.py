"""The committed diffusion model, loaded once per process and shared read-only, and its guided denoiser."""
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import torch
from tokenizers import Tokenizer

from genmodels.checkpoint import load_checkpoint, loaded_once
from genmodels.diffusion.samplers import Denoiser, classifier_free_guidance
from genmodels.diffusion.schedule import NoiseSchedule, cosine_schedule, linear_schedule
from genmodels.diffusion.text_encoder import TextEncoder, TextEncoderConfig
from genmodels.diffusion.unet import UNet, UNetConfig
from genmodels.fastpath import FAST_PATH, GraphPool, StaticCall
from genmodels.paths import ASSETS
from genmodels.runtime import pick_device
from genmodels.text.tokenizer import load_tokenizer

ASSET_DIR = ASSETS / "diffusion"
REMAKE = "python -m genmodels.diffusion.train --preset gpu"
SCHEDULES = {"cosine": cosine_schedule, "linear": linear_schedule}
GRAPHS = GraphPool(limit=16)  # recorded denoiser passes, by batch size and guidance kind


@dataclass(frozen=True)
class DiffusionModel:
    unet: UNet
    text_encoder: TextEncoder
    tokenizer: Tokenizer
    schedule: NoiseSchedule
    record: dict  # the U-Net checkpoint's JSON (config, preset, steps, schedule)


@loaded_once
def _load(asset_dir: Path) -> DiffusionModel:
    device = pick_device()
    if device.type == "cuda":  # TF32 convolutions pick other roundings at other batch sizes, which guidance and the
        torch.backends.cudnn.allow_tf32 = False  # sampler magnify: a request would not get the same images batched
    unet, record = load_checkpoint(UNet, UNetConfig, asset_dir / "unet", REMAKE, device=device)
    if device.type == "cpu":  # oneDNN's convolutions run faster on channels-last weights, at every batch size
        unet = unet.to(memory_format=torch.channels_last)
    text_encoder, _ = load_checkpoint(TextEncoder, TextEncoderConfig, asset_dir / "text_encoder", REMAKE, device=device)
    tokenizer = load_tokenizer(asset_dir / "tokenizer.json", REMAKE)
    schedule = SCHEDULES[record["meta"]["schedule"]](record["meta"]["T"])
    return DiffusionModel(unet, text_encoder, tokenizer, schedule, record)


def load_diffusion_model(asset_dir: Path | str = ASSET_DIR) -> DiffusionModel:
    """U-Net, text encoder, tokenizer and schedule from assets/diffusion, loaded on first use on the chosen device."""
    return _load(Path(asset_dir))


def guided_eps(model: UNet, x_t: torch.Tensor, t: torch.Tensor, both: torch.Tensor, scale) -> torch.Tensor:
    """eps_uncond + s (eps_cond - eps_uncond) from one forward pass of 2B images; both = [cond; uncond] (2B, D)."""
    eps = model(torch.cat([x_t, x_t]), torch.cat([t, t]), both)  # (2B, 1, 28, 28)
    eps_cond, eps_uncond = eps.chunk(2)
    return classifier_free_guidance(eps_uncond, eps_cond, scale)


def make_denoiser(model: UNet, cond: torch.Tensor, uncond: torch.Tensor, guidance_scale: float) -> Denoiser:
    """denoise(x_t, t) -> eps_uncond + s (eps_cond - eps_uncond) (Ho & Salimans 2022) for ddpm_steps / ddim_steps.

    cond (B, D) and uncond (B or 1, D) run in one forward pass of 2B images; s = 1 and s = 0 run only their branch.
    On CUDA each call replays a CUDA graph of that pass (genmodels.fastpath), lent from a pool for the call."""
    uncond = uncond.expand_as(cond)
    guided = guidance_scale not in (0, 1)
    if guided:
        run, context = partial(guided_eps, model), (torch.cat([cond, uncond]), guidance_scale)  # built once
    else:
        run, context = model, (cond if guidance_scale == 1 else uncond,)
    if not FAST_PATH.enabled(cond.device):
        return torch.inference_mode()(lambda x_t, t: run(x_t, t, *context))
    if guided:  # the recorded pass takes the scale as a 0-d tensor input, so one graph serves every scale
        context = (context[0], torch.tensor(float(guidance_scale), device=cond.device))

    @torch.inference_mode()
    def denoise(x_t: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        inputs = (x_t, t, *context)
        key = (id(model), guided, *(tuple(x.shape) for x in inputs), str(x_t.device))
        with GRAPHS.lent(key, lambda: StaticCall(run, *inputs)) as call:
            return run(*inputs) if call is None else call(*inputs)

    return denoise
