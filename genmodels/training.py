"""Pieces every training entry point shares: the command line, the learning-rate schedule, the optimizer grouping,
autocast."""
import argparse
import math
import time
from pathlib import Path

import torch
from torch import nn


def warmup_cosine(step: int, steps: int, peak: float, floor: float, warmup: int) -> float:
    """Linear warmup to `peak`, then cosine decay to `floor` at `steps` (as in nanoGPT)."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    return floor + 0.5 * (1 + math.cos(math.pi * progress)) * (peak - floor)


class TrainingClock:
    """How far along its schedule a run is: step / steps, or sooner, seconds spent / max_seconds when a time
    budget is given, so a run on a slower machine than planned still anneals its learning rate and ends on time."""

    def __init__(self, steps: int, max_seconds: float | None = None):
        self.steps, self.max_seconds = steps, max_seconds
        self.start = time.perf_counter()

    def schedule_step(self, step: int) -> int:
        """The step the learning-rate schedule is at: `step`, or further along when the time budget runs out first."""
        if self.max_seconds is None:
            return step
        spent = (time.perf_counter() - self.start) / self.max_seconds
        return max(step, min(self.steps, int(spent * self.steps)))

    def finished(self, step: int) -> bool:
        """True once `steps` steps are done or the time budget is spent."""
        return self.schedule_step(step) >= self.steps


def adamw(model: nn.Module, lr: float, weight_decay: float, betas=(0.9, 0.999)) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices and kernels only, not on biases and norms (nanoGPT's grouping)."""
    decay = [p for p in model.parameters() if p.dim() >= 2]
    no_decay = [p for p in model.parameters() if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=betas)


def autocast(device: torch.device):
    """bf16 autocast on CUDA, and on a CPU with native bf16 matrix units (AVX512-BF16 / AMX: the pixel transformer
    trains twice as fast there), a no-op elsewhere; the weights and the optimizer stay fp32."""
    enabled = device.type == "cuda" or (device.type == "cpu" and torch.ops.mkldnn._is_mkldnn_bf16_supported())
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def image_training_arguments(doc: str, presets: dict) -> argparse.ArgumentParser:
    """The command line every Fashion-MNIST trainer takes: --preset, --data-dir, --out, --steps."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(presets), default="gpu")
    parser.add_argument("--data-dir", type=Path, help="folder with Fashion-MNIST's IDX files (default: found)")
    parser.add_argument("--out", type=Path, help="output folder (default: the preset's)")
    parser.add_argument("--steps", type=int, help="override the preset's step count")
    return parser


def add_time_budget(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add --max-seconds, the time budget a TrainingClock keeps to."""
    parser.add_argument("--max-seconds", type=float, help="a time budget: the learning-rate schedule runs over the "
                        "steps or these seconds, whichever ends first")
    return parser
