"""The diffusion engine: continuous batching of the U-Net over requests at different timesteps and settings.

Each job (one request's images) keeps its own x_t, timestep list (its step count), sampler (DDPM or DDIM with its
eta), guidance scale and generator. A tick runs the U-Net once over every job's rows, each row at its own timestep:
the conditional and the unconditional half of every guided row in the same call (guidance 1 and 0 need only one
half), then each job mixes its halves with its own scale and takes its own sampler step, exactly as
`ddim_steps` / `ddpm_steps` do alone. On CUDA the pass replays a CUDA graph recorded per bucketed batch size; on
the CPU a large pass is split across the cores.
"""
from dataclasses import dataclass

import torch

from genmodels.diffusion.samplers import (
    DiffusionStep,
    classifier_free_guidance,
    ddim_update,
    ddpm_update,
    estimate_x0,
    timestep_pairs,
)
from genmodels.diffusion.schedule import NoiseSchedule
from genmodels.fastpath import FAST_PATH, StaticCall
from genmodels.serving.engine import Engine, Job, core_helpers, on_every_core, row_parts, splits
from genmodels.serving.tokens import bucket


@dataclass
class DenoisingJob:
    """One request's sampling state: its images x (B, 1, 28, 28) at the next step's timestep."""
    x: torch.Tensor
    pairs: list[tuple[int, int]]  # (t, t_prev) of every step, -1 after the last
    cond: torch.Tensor  # (B, D) the prompt's text vector per image
    uncond: torch.Tensor  # (B, D) the empty prompt's
    guidance: float
    sampler: str  # "DDIM" or "DDPM"
    eta: float
    generator: torch.Generator | None
    index: int = 0

    def halves(self) -> list[torch.Tensor]:
        """The text vectors this job's rows run under: both halves when guided, one for guidance 1 or 0."""
        if self.guidance == 1:
            return [self.cond]
        if self.guidance == 0:
            return [self.uncond]
        return [self.cond, self.uncond]


class DenoisingEngine(Engine):
    """Continuous batching over one U-Net with its noise schedule."""

    def __init__(self, unet: torch.nn.Module, schedule: NoiseSchedule, capacity: int, name: str = "diffusion"):
        super().__init__(capacity)
        self.unet, self.schedule, self.name = unet, schedule, name
        self.device = unet.conv_in.weight.device
        self.graphs: dict[int, StaticCall] = {}  # bucketed U-Net batch size -> recorded pass (CUDA)
        self.helpers = core_helpers("unet-part")

    def forward(self, jobs: list[Job]) -> dict[int, list[torch.Tensor]]:
        """Predicted noise for each half of each job: {id(job): [eps per half]} from one U-Net call."""
        xs, ts, texts, sizes = [], [], [], []
        for job in jobs:
            state: DenoisingJob = job.state
            t = state.pairs[state.index][0]
            for vectors in state.halves():
                xs.append(state.x)
                ts.append(torch.full((job.rows,), t, dtype=torch.long, device=self.device))
                texts.append(vectors)
                sizes.append(job.rows)
        x, t, text = torch.cat(xs), torch.cat(ts), torch.cat(texts)  # (N, 1, 28, 28), (N,), (N, D)
        with torch.inference_mode():
            if FAST_PATH.enabled(self.device):
                eps = self.replay(x, t, text)
            elif len(jobs) > 1:  # a lone request's pass stays whole: it gets the very numbers it gets alone
                eps = self.split_pass(x, t, text)
            else:
                eps = self.unet(x, t, text)
        parts = iter(eps.split(sizes))
        return {id(job): [next(parts) for _ in job.state.halves()] for job in jobs}

    def split_pass(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The U-Net over (N, 1, 28, 28) images, split across the CPU's cores when N is large. The server gives each
        request one torch thread, so a tick's convolutions would use one core; but a tick steps many requests at
        once while they wait for it, so its rows are split into one part per core, each part run on its own
        thread (the caller's and the engine's helpers), and joined."""
        if self.device.type != "cpu" or not splits(len(x)):
            return self.unet(x, t, text)
        parts = [(x[rows], t[rows], text[rows]) for rows in row_parts(len(x))]
        return on_every_core(self.helpers, self.unet_part, parts)

    @torch.inference_mode()
    def unet_part(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The U-Net on a helper thread (inference mode belongs to the thread that enters it)."""
        return self.unet(x, t, text)

    def replay(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        """The U-Net pass at the bucketed batch size, recorded once per size (on CUDA; static buffers elsewhere)."""
        rows = len(x)
        size = bucket(rows)
        padded = [torch.zeros(size, *v.shape[1:], dtype=v.dtype, device=v.device) for v in (x, t, text)]
        for buffer, v in zip(padded, (x, t, text)):
            buffer[:rows] = v
        if size not in self.graphs:
            self.graphs[size] = StaticCall(self.unet, *padded)
        return self.graphs[size](*padded)[:rows]

    def advance(self, job: Job, outputs: dict) -> None:
        state: DenoisingJob = job.state
        eps = outputs[id(job)]
        if len(eps) == 2:
            eps = classifier_free_guidance(eps[1], eps[0], state.guidance)
        else:
            eps = eps[0]
        t, t_prev = state.pairs[state.index]
        with torch.inference_mode():
            x0 = estimate_x0(self.schedule, state.x, t, eps, clip_x0=True)
            if state.sampler == "DDPM":
                x_prev, sigma = ddpm_update(self.schedule, state.x, x0, t, t_prev, state.generator)
            else:
                x_prev, sigma = ddim_update(self.schedule, state.x, eps, x0, t, t_prev, state.eta, state.generator,
                                            clip_x0=True)
        job.emit(DiffusionStep(state.index, t, t_prev, state.x, eps, x0, x_prev,
                               (1 - self.schedule.abar(t)) ** 0.5, sigma))
        state.x, state.index = x_prev, state.index + 1
        if state.index == len(state.pairs):
            job.finish()

    def steps(self, x_T: torch.Tensor, timesteps: list[int], cond: torch.Tensor, uncond: torch.Tensor,
              guidance: float, sampler: str, eta: float, generator: torch.Generator | None):
        """ddim_steps / ddpm_steps through the engine: a DiffusionStep per step for the images x_T (B, 1, 28, 28)."""
        if not 0 <= eta <= 1:
            raise ValueError(f"eta must be in [0, 1], not {eta}")
        state = DenoisingJob(x_T, timestep_pairs(timesteps, self.schedule.T), cond, uncond.expand_as(cond),
                             float(guidance), sampler, eta, generator)
        return self.submit(Job(len(x_T), state)).stream()
