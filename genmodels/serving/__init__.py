"""The engines that batch concurrent requests step by step, one per model, behind the page and the API.

`token_steps` stands in for `generate_tokens`, and a U-Net engine's `steps` for `ddim_steps` / `ddpm_steps`
(`diffusion/generate.py` picks it): with batching on (the default) a request runs through its model's engine,
shared by every request of the process; with GENMODELS_BATCHING=0, or under ZeroGPU, each request runs alone as
before. Same request, same output either way. The same switch sends the 2-D lab's and the live 2-D GAN's training
steps to a worker process (`processes.stream`).
"""
import importlib.util
import os
import threading

import torch

from genmodels.diffusion.schedule import NoiseSchedule
from genmodels.pixels.model import PixelTransformer
from genmodels.serving.denoising import DenoisingEngine
from genmodels.serving.tokens import TokenEngine
from genmodels.text.sampling import Guidance, generate_tokens

BATCHING_ENV = "GENMODELS_BATCHING"  # "0": each request runs alone (the load test compares both)
ENGINE_CONCURRENCY = 16  # requests of one endpoint let into an engine at once (the rest wait in the page's queue)
ROWS = {"cpu": 32, "cuda": 64}  # rows (sequences or images) one tick covers at most, per device type
_engines: dict[int, object] = {}
_engines_lock = threading.Lock()


def batching_enabled() -> bool:
    """Whether requests share engines: on unless GENMODELS_BATCHING=0. Always off under ZeroGPU (the `spaces`
    package), which runs each request in its own GPU process, where requests cannot meet."""
    return os.environ.get(BATCHING_ENV, "1") != "0" and importlib.util.find_spec("spaces") is None


def with_batching(enabled: bool, fn):
    """fn() with GENMODELS_BATCHING set for the whole process while it runs (a benchmark's or an evaluation's)."""
    previous = os.environ.get(BATCHING_ENV)
    os.environ[BATCHING_ENV] = "1" if enabled else "0"
    try:
        return fn()
    finally:
        if previous is None:
            os.environ.pop(BATCHING_ENV)
        else:
            os.environ[BATCHING_ENV] = previous


def engine_for(model: torch.nn.Module, build):
    """The engine of `model`, built on first use and kept for the process (models are loaded once)."""
    with _engines_lock:
        if id(model) not in _engines:
            _engines[id(model)] = build()
        return _engines[id(model)]


def engines() -> list:
    """Every engine built so far (for benchmarks and health figures)."""
    with _engines_lock:
        return list(_engines.values())


def capacity(device: torch.device) -> int:
    return ROWS.get(device.type, ROWS["cpu"])


def token_engine(model: torch.nn.Module) -> TokenEngine:
    """The text GPT's or the pixel transformer's engine."""
    config = model.gpt.config if isinstance(model, PixelTransformer) else model.config
    device = next(model.parameters()).device
    name = "pixel" if isinstance(model, PixelTransformer) else "text"
    return engine_for(model, lambda: TokenEngine(model, config, capacity(device), name))


def token_steps(model: torch.nn.Module, prompt_ids: list[int], max_new_tokens: int, temperature: float = 1.0,
                top_k: int = 0, top_p: float = 1.0, generator: torch.Generator | None = None, batch_size: int = 1,
                guidance: Guidance | None = None):
    """A TokenStep per new token, as generate_tokens yields them, through the model's engine when batching is on."""
    if not batching_enabled():
        return generate_tokens(model, prompt_ids, max_new_tokens, temperature, top_k, top_p, generator, batch_size,
                               guidance)
    return token_engine(model).generate(prompt_ids, max_new_tokens, temperature, top_k, top_p, generator, batch_size,
                                        guidance)


def denoising_engine(unet: torch.nn.Module, schedule: NoiseSchedule) -> DenoisingEngine:
    """The U-Net's engine."""
    return engine_for(unet, lambda: DenoisingEngine(unet, schedule, capacity(unet.conv_in.weight.device)))
