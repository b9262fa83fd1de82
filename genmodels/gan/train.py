"""Train the DCGAN on Fashion-MNIST: `python -m genmodels.gan.train --preset cpu [--loss minimax] [--collapse]`.

Each step updates D once on a real and a generated batch, minimizing -[log D(x) + log(1 - D(G(z)))] (BCE with
logits), then G `g_steps` times with the non-saturating -log D(G(z)) or the minimax log(1 - D(G(z))) (losses.py);
Adam with lr 2e-4 and betas (0.5, 0.999) for both (Radford et al. 2015). The log holds the mean losses, D(x) and
D(G(z)) of every `log_interval` steps, and the steps of the snapshots: 8x8 grids of fixed-noise samples (G in
eval mode, as the app runs it), stacked top to bottom into one grayscale PNG sprite sheet for replay.
`--collapse` trains with the mode-collapse recipe (see `collapse`) and writes collapsed_* files, else healthy_*.
Presets: `gpu` makes the reference weights on one H200-class GPU in about a minute, `cpu` runs on a 2-core
machine in minutes, `tiny` trains a few steps on a few hundred images (tests use it).
"""
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm import tqdm

from genmodels.checkpoint import load_checkpoint, save_checkpoint
from genmodels.data.fashion_mnist import load_split, to_model_range, to_uint8
from genmodels.gan.dcgan import Discriminator, GANConfig, Generator, weights_init
from genmodels.gan.latent import sample_latents
from genmodels.gan.losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from genmodels.runtime import pick_device
from genmodels.training import autocast, image_training_arguments


@dataclass
class TrainPreset:
    model: GANConfig
    batch_size: int = 128
    steps: int = 8000  # discriminator updates
    lr_g: float = 2e-4
    lr_d: float = 2e-4
    betas: tuple[float, float] = (0.5, 0.999)
    g_steps: int = 1  # generator updates per discriminator update
    loss: str = "non-saturating"
    log_interval: int = 20  # the log holds the means over each interval
    snapshots: int = 25  # fixed-noise sample grids kept for the training replay
    grid: int = 8  # each snapshot shows grid x grid samples
    snapshot_seed: int = 0  # seed of the fixed noise (latent.sample_latents)
    train_images: int | None = None  # the first N training images; None: all 60,000
    out_dir: str = "assets/gan"


PRESETS = {
    "gpu": TrainPreset(GANConfig()),
    "cpu": TrainPreset(GANConfig(ngf=32, ndf=32), batch_size=64, steps=3000),
    "tiny": TrainPreset(GANConfig(latent_dim=16, ngf=8, ndf=8), batch_size=32, steps=8, log_interval=2,
                        snapshots=4, grid=4, train_images=256, out_dir="data/tiny-run/gan"),
}


def collapse(preset: TrainPreset) -> TrainPreset:
    """The mode-collapse recipe: no batch norm in the generator, and a discriminator that learns 50 times slower
    than it (Adam lr 2e-5 for D, 1e-3 for G), for at most 800 steps. In training mode batch norm rescales each
    channel across the batch, which keeps a batch's samples apart; without it nothing stops G from sending every
    latent to the same few images. And a slow D cannot react in time: G moves all its samples to whatever D
    currently scores as most real, D never learns enough to ask for variety, and one kind of garment takes over."""
    return replace(preset, model=replace(preset.model, g_batch_norm=False), lr_g=1e-3, lr_d=2e-5,
                   steps=min(preset.steps, 800))


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


def train(preset_name: str, out_dir: Path, steps: int | None = None, loss: str | None = None, collapsed=False,
          images: torch.Tensor | None = None, data_dir: Path | None = None, seed: int = 0) -> dict:
    """Train G and D; write {healthy|collapsed}_generator, _discriminator (.safetensors/.json), _train_log.json
    and _progress.png to out_dir. images: uint8 (N, 28, 28) to train on instead of Fashion-MNIST's train split."""
    preset = collapse(PRESETS[preset_name]) if collapsed else PRESETS[preset_name]
    preset = replace(preset, steps=steps or preset.steps, loss=loss or preset.loss)
    if preset.loss not in GENERATOR_LOSSES:
        raise ValueError(f"loss must be one of {GENERATOR_LOSSES}, not {preset.loss!r}")
    device = pick_device()
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    images = load_split("train", data_dir)[0] if images is None else images
    x_all = to_model_range(images[:preset.train_images]).to(device)  # (N, 1, 28, 28)
    G, D = Generator(preset.model).to(device), Discriminator(preset.model).to(device)
    G.apply(weights_init)
    D.apply(weights_init)
    opt_g = torch.optim.Adam(G.parameters(), lr=preset.lr_g, betas=preset.betas)
    opt_d = torch.optim.Adam(D.parameters(), lr=preset.lr_d, betas=preset.betas)
    fixed_z = sample_latents(preset.snapshot_seed, preset.grid ** 2, preset.model.latent_dim, device)  # (g^2, dim)
    prefix = "collapsed" if collapsed else "healthy"
    settings = asdict(preset) | {"collapse": collapsed}
    del settings["model"]
    log = {"preset": preset_name, "device": str(device), "kind": prefix, "settings": settings,
           "config": asdict(preset.model), "params": {"generator": G.num_params(), "discriminator": D.num_params()},
           "train_images": len(x_all), "train": {"step": [], "d_loss": [], "g_loss": [], "d_real": [], "d_fake": []},
           "snapshots": {"step": [], "sprite": f"{prefix}_progress.png", "grid": preset.grid, "image_size": 28}}
    if collapsed:
        log["collapse_recipe"] = collapse.__doc__
    keep_at, frames = set(snapshot_steps(preset.steps, preset.snapshots)), []

    def snapshot(step: int) -> None:
        G.eval()
        with torch.no_grad():
            frames.append(render_grid(G(fixed_z), preset.grid))
        G.train()
        log["snapshots"]["step"].append(step)

    start = time.perf_counter()
    sums = torch.zeros(4, device=device)  # d_loss, g_loss, D(x), D(G(z)) summed over the interval
    progress = tqdm(range(preset.steps), desc=f"gan[{preset_name}{', collapse' if collapsed else ''}]", unit="step")
    for step in progress:
        if step in keep_at:
            snapshot(step)
        x = x_all[torch.randint(len(x_all), (preset.batch_size,), device=device)]  # (B, 1, 28, 28)
        with autocast(device):
            fake = G(torch.randn(preset.batch_size, preset.model.latent_dim, device=device))  # (B, 1, 28, 28)
            real_logits, fake_logits = D(x).float(), D(fake.detach()).float()  # (B,), (B,)
        d_loss = discriminator_loss(real_logits, fake_logits)
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        for k in range(preset.g_steps):
            with autocast(device):
                if k:  # the first update reuses the batch D just saw, later ones draw fresh latents
                    fake = G(torch.randn(preset.batch_size, preset.model.latent_dim, device=device))
                g_loss = generator_loss(D(fake).float(), preset.loss)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
        sums += torch.stack([d_loss.detach(), g_loss.detach(), real_logits.detach().sigmoid().mean(),
                             fake_logits.detach().sigmoid().mean()])
        if (step + 1) % preset.log_interval == 0 or step + 1 == preset.steps:
            means = (sums / ((step % preset.log_interval) + 1)).tolist()
            sums.zero_()
            log["train"]["step"].append(step + 1)
            for key, value in zip(("d_loss", "g_loss", "d_real", "d_fake"), means):
                log["train"][key].append(round(value, 4))
            progress.set_postfix(d_loss=f"{means[0]:.3f}", g_loss=f"{means[1]:.3f}", Dx=f"{means[2]:.2f}",
                                 DGz=f"{means[3]:.2f}")
    snapshot(preset.steps)
    log["seconds"] = round(time.perf_counter() - start, 1)
    log["steps_per_second"] = round(preset.steps / max(log["seconds"], 1e-9), 2)
    out_dir.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(frames)).save(out_dir / log["snapshots"]["sprite"], optimize=True)
    meta = {"preset": preset_name, "kind": prefix, "steps": preset.steps, "loss": preset.loss, "collapse": collapsed}
    probe_x = x_all[:256]
    log["generator"] = save_faithfully(G, out_dir / f"{prefix}_generator", lambda g: g(fixed_z), 2 / 255, meta)
    log["discriminator"] = save_faithfully(D, out_dir / f"{prefix}_discriminator",
                                           lambda d: d(probe_x).sigmoid(), 0.01, meta)
    (out_dir / f"{prefix}_train_log.json").write_text(json.dumps(log) + "\n")
    return log


def main() -> None:
    parser = image_training_arguments(__doc__, PRESETS)
    parser.add_argument("--loss", choices=GENERATOR_LOSSES, help="generator loss (default: the preset's)")
    parser.add_argument("--collapse", action="store_true", help="train with the mode-collapse recipe")
    args = parser.parse_args()
    out_dir = args.out or Path(PRESETS[args.preset].out_dir)
    log = train(args.preset, out_dir, args.steps, args.loss, args.collapse, data_dir=args.data_dir)
    print(json.dumps({k: log[k] for k in ("preset", "kind", "device", "params", "seconds", "steps_per_second")}
                     | {"steps": log["settings"]["steps"], "final": {k: v[-1] for k, v in log["train"].items()}}))


if __name__ == "__main__":
    main()
