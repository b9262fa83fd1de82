"""What a DCGAN run records and writes: its loss curves, fixed-noise sample grids, and faithfully saved weights.

Shared by the healthy run (gan/train.py) and the collapse recipe (gan/collapse.py), so the app replays both alike.
"""
import json
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from genmodels.checkpoint import load_checkpoint, save_checkpoint
from genmodels.data.fashion_mnist import to_uint8
from genmodels.gan.dcgan import Discriminator, GANConfig, Generator

CURVES = ("d_loss", "g_loss", "d_real", "d_fake")


def snapshot_steps(steps: int, count: int) -> list[int]:
    """About `count` steps from 0 to `steps`, spaced quadratically: dense early, where the samples change fastest."""
    return sorted({round(steps * (k / (count - 1)) ** 2) for k in range(count)})


def render_grid(images: torch.Tensor, grid: int) -> np.ndarray:
    """The first grid * grid images (N, 1, 28, 28) in [-1, 1] tiled row by row into uint8 (28 grid, 28 grid)."""
    tiles = to_uint8(images[:grid * grid].float().cpu()).numpy()  # (grid^2, 28, 28)
    return tiles.reshape(grid, grid, 28, 28).transpose(0, 2, 1, 3).reshape(grid * 28, grid * 28)


def save_faithfully(model, stem: Path, probe, tolerance: float, meta: dict) -> dict:
    """Save fp16 weights if `probe(model)` moves by at most `tolerance` (max abs) after the round trip, else fp32."""
    model.eval()
    with torch.inference_mode():
        reference = probe(model)
        for half in (True, False):
            save_checkpoint(model, model.config, stem, half=half, meta=meta)
            saved, _ = load_checkpoint(type(model), GANConfig, stem, "", device=reference.device)
            error = (probe(saved) - reference).abs().max().item()
            if error <= tolerance or not half:
                break
    meta = meta | {"weights_dtype": "float16" if half else "float32", "round_trip_max_error": round(error, 5)}
    save_checkpoint(model, model.config, stem, half=half, meta=meta)
    return meta


class RunLog:
    """The JSON log of one run (`kind`: healthy | collapsed) and its sprite of sample grids, built as it trains."""

    def __init__(self, kind: str, preset_name: str, settings: dict, G: Generator, D: Discriminator,
                 train_images: int, grid: int, log_interval: int):
        self.kind, self.grid, self.log_interval = kind, grid, log_interval
        self.frames, self.start = [], time.perf_counter()
        self.sums = torch.zeros(len(CURVES), device=next(G.parameters()).device)  # summed over the interval
        self.log = {"preset": preset_name, "device": str(self.sums.device), "kind": kind, "settings": settings,
                    "config": asdict(G.config),
                    "params": {"generator": G.num_params(), "discriminator": D.num_params()},
                    "train_images": train_images, "train": {"step": []} | {key: [] for key in CURVES},
                    "snapshots": {"step": [], "sprite": f"{kind}_progress.png", "grid": grid, "image_size": 28}}

    def snapshot(self, step: int, G: Generator, fixed_z: torch.Tensor) -> None:
        """Draw the fixed latents with G in eval mode, as the app runs it, and put G back in the mode it was in."""
        training = G.training
        G.eval()
        with torch.no_grad():
            self.frames.append(render_grid(G(fixed_z), self.grid))
        G.train(training)
        self.log["snapshots"]["step"].append(step)

    def add(self, step: int, d_loss, g_loss, real_logits, fake_logits, progress) -> None:
        """Count one step (0-based); after every `log_interval` steps and the last, log the means and show them on
        the `progress` bar (tqdm)."""
        self.sums += torch.stack([d_loss.detach(), g_loss.detach(), real_logits.detach().sigmoid().mean(),
                                  fake_logits.detach().sigmoid().mean()])
        if (step + 1) % self.log_interval and step + 1 != self.log["settings"]["steps"]:
            return
        means = (self.sums / (step % self.log_interval + 1)).tolist()
        self.sums.zero_()
        self.log["train"]["step"].append(step + 1)
        for key, value in zip(CURVES, means):
            self.log["train"][key].append(round(value, 4))
        progress.set_postfix(d_loss=f"{means[0]:.3f}", g_loss=f"{means[1]:.3f}", Dx=f"{means[2]:.2f}",
                             DGz=f"{means[3]:.2f}")

    def save(self, out_dir: Path, G: Generator, D: Discriminator, meta: dict, fixed_z: torch.Tensor,
             probe_x: torch.Tensor) -> dict:
        """Write {kind}_generator, _discriminator (.safetensors/.json), _train_log.json and _progress.png."""
        steps = self.log["settings"]["steps"]
        self.log["seconds"] = round(time.perf_counter() - self.start, 1)
        self.log["steps_per_second"] = round(steps / max(self.log["seconds"], 1e-9), 2)
        out_dir.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.concatenate(self.frames)).save(out_dir / self.log["snapshots"]["sprite"], optimize=True)
        self.log["generator"] = save_faithfully(G, out_dir / f"{self.kind}_generator", lambda g: g(fixed_z), 2 / 255,
                                                meta)
        self.log["discriminator"] = save_faithfully(D, out_dir / f"{self.kind}_discriminator",
                                                    lambda d: d(probe_x).sigmoid(), 0.01, meta)
        (out_dir / f"{self.kind}_train_log.json").write_text(json.dumps(self.log) + "\n")
        return self.log

    @staticmethod
    def summary_of(log: dict) -> dict:
        """The line a training command prints when it ends."""
        return ({k: log[k] for k in ("preset", "kind", "device", "params", "seconds", "steps_per_second")}
                | {"steps": log["settings"]["steps"], "final": {k: v[-1] for k, v in log["train"].items() if v}})
