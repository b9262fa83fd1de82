"""Make the mode-collapsed DCGAN from the healthy one: `python -m genmodels.gan.collapse --preset cpu`.

Needs healthy_generator and healthy_discriminator in the output folder (`python -m genmodels.gan.train`). Phase 1
trains the healthy D alone against the fixed healthy G (without it, the frozen D's favourite image is a bright block
rather than a garment: docs/performance.md); phase 2 freezes that D and trains only a new first layer of G
(dcgan.LatentMap, which remaps z and keeps its norm typical) to fool it, with G's other weights and batch-norm
statistics fixed (eval mode, as the app runs it). The log scores D as the app runs it throughout. Writes collapsed_*
files laid out as the healthy run's, so the app replays both alike (gan/runlog.py).
"""
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm import tqdm

from genmodels.checkpoint import load_checkpoint
from genmodels.data.fashion_mnist import load_split, to_model_range
from genmodels.gan.dcgan import Discriminator, GANConfig, Generator
from genmodels.gan.latent import sample_latents
from genmodels.gan.losses import discriminator_loss, generator_loss
from genmodels.gan.runlog import RunLog, snapshot_steps
from genmodels.runtime import pick_device
from genmodels.training import image_training_arguments

RECIPE = ("Made from the healthy GAN: first its discriminator trained alone for {d_steps:,} steps against the fixed "
          "healthy generator; then it was frozen, and for {g_steps:,} steps the generator learned only a "
          "new first layer that remaps its latents, drawing with the weights it had (so every sample is still an "
          "image it can draw). Nothing in the generator's loss asks for variety: against a discriminator that no "
          "longer adapts, its best move is to send every latent to the image that discriminator likes most, and the "
          "latents drift together until nearly all land on the same few garments. Trained together, this pair does "
          "not collapse: a discriminator that keeps learning punishes whatever the generator repeats.")

PHASES = ("Until step {d_steps:,} only the discriminator learns, against the healthy generator; from there the "
          "discriminator is frozen and only the generator's latent map learns.")  # the replay's caption adds it


@dataclass
class CollapsePreset:
    batch_size: int = 64
    d_steps: int = 600  # phase 1: D alone against the fixed healthy G
    g_steps: int = 1000  # phase 2: G's latent map alone against the frozen D
    lr_d: float = 2e-4
    lr_map: float = 1e-2
    betas: tuple[float, float] = (0.5, 0.999)
    log_interval: int = 20  # the log holds the means over each interval
    snapshots: int = 25  # fixed-noise sample grids kept for the replay, the first at step 0
    grid: int = 8  # each snapshot shows grid x grid samples
    snapshot_seed: int = 0  # the healthy run's fixed noise, so both replays show the same latents
    train_images: int | None = None  # the first N training images; None: all 60,000
    out_dir: str = "assets/gan"


PRESETS = {"gpu": CollapsePreset(batch_size=128), "cpu": CollapsePreset(),
           "tiny": CollapsePreset(batch_size=32, d_steps=4, g_steps=4, log_interval=2, snapshots=4, grid=4,
                                  train_images=256, out_dir="data/tiny-run/gan")}


def collapse_snapshot_steps(preset: CollapsePreset) -> list[int]:
    """Step 0, then the second phase's steps spaced as a healthy run's (phase 1 leaves G's samples unchanged)."""
    return sorted({0} | {preset.d_steps + s for s in snapshot_steps(preset.g_steps, preset.snapshots - 1)})


def healthy_pair(out_dir: Path, preset_name: str, device) -> tuple[Generator, Discriminator]:
    """The healthy run's G, rebuilt with a latent map that starts as the identity, and its D, both fp32."""
    remake = f"python -m genmodels.gan.train --preset {preset_name} --out {out_dir}"
    healthy, _ = load_checkpoint(Generator, GANConfig, out_dir / "healthy_generator", remake, device)
    D, _ = load_checkpoint(Discriminator, GANConfig, out_dir / "healthy_discriminator", remake, device)
    G = Generator(replace(healthy.config, latent_map=True)).to(device)
    G.net.load_state_dict(healthy.net.state_dict())
    return G, D


@torch.no_grad()
def scored_as_served(D: Discriminator, x: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """D's logits for real and generated images in eval mode (batch norm's stored statistics), as the app and the
    frozen phase score them: in training mode a batch of only real or only generated images is normalized by its
    own statistics, which flatters D, so the log would jump where the phases meet."""
    D.eval()
    logits = D(x), D(fake)  # (B,), (B,)
    D.train()
    return logits


def make_collapsed(preset_name: str, out_dir: Path, g_steps: int | None = None, images: torch.Tensor | None = None,
                   data_dir: Path | None = None, seed: int = 0) -> dict:
    """Run both phases on the healthy pair in out_dir; write the collapsed_* files there. images: uint8 (N, 28, 28)
    to train on instead of Fashion-MNIST's train split."""
    preset = replace(PRESETS[preset_name], g_steps=g_steps or PRESETS[preset_name].g_steps)
    device = pick_device()
    torch.manual_seed(seed)
    images = load_split("train", data_dir)[0] if images is None else images
    x_all = to_model_range(images[:preset.train_images]).to(device)  # (N, 1, 28, 28)
    G, D = healthy_pair(out_dir, preset_name, device)
    G.eval()  # batch norm keeps the healthy run's statistics; only the latent map learns
    D.train()
    for p in G.net.parameters():
        p.requires_grad_(False)
    opt_d = torch.optim.Adam(D.parameters(), lr=preset.lr_d, betas=preset.betas)
    opt_map = torch.optim.Adam(G.latent_map.parameters(), lr=preset.lr_map, betas=preset.betas)
    latent_dim, total = G.config.latent_dim, preset.d_steps + preset.g_steps
    fixed_z = sample_latents(preset.snapshot_seed, preset.grid ** 2, latent_dim, device)  # (g^2, dim)
    settings = asdict(preset) | {"steps": total, "loss": "non-saturating", "collapse": True}
    run = RunLog("collapsed", preset_name, settings, G, D, len(x_all), preset.grid, preset.log_interval)
    run.log["collapse_recipe"] = RECIPE.format(d_steps=preset.d_steps, g_steps=preset.g_steps)
    run.log["phases"] = PHASES.format(d_steps=preset.d_steps)
    keep_at = set(collapse_snapshot_steps(preset))
    progress = tqdm(range(total), desc=f"gan[{preset_name}, collapse]", unit="step")
    for step in progress:
        if step in keep_at:
            run.snapshot(step, G, fixed_z)
        if step == preset.d_steps:  # phase 2: D stops learning
            D.eval()
            D.requires_grad_(False)
        x = x_all[torch.randint(len(x_all), (preset.batch_size,), device=device)]  # (B, 1, 28, 28)
        z = torch.randn(preset.batch_size, latent_dim, device=device)  # (B, latent_dim)
        if step < preset.d_steps:
            with torch.no_grad():
                fake = G(z)  # (B, 1, 28, 28)
            real_logits, fake_logits = D(x), D(fake)  # (B,), (B,)
            d_loss = discriminator_loss(real_logits, fake_logits)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            real_logits, fake_logits = scored_as_served(D, x, fake)
            d_loss, g_loss = discriminator_loss(real_logits, fake_logits), generator_loss(fake_logits)
        else:
            fake_logits = D(G(z))  # (B,)
            g_loss = generator_loss(fake_logits)
            opt_map.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_map.step()
            with torch.no_grad():
                real_logits = D(x)  # (B,)
                d_loss = discriminator_loss(real_logits, fake_logits)  # logged, not trained on
        run.add(step, d_loss, g_loss, real_logits, fake_logits, progress)
    run.snapshot(total, G, fixed_z)
    meta = {"preset": preset_name, "kind": "collapsed", "steps": total, "loss": "non-saturating", "collapse": True}
    return run.save(out_dir, G, D, meta, fixed_z, x_all[:256])


def main() -> None:
    args = image_training_arguments(__doc__, PRESETS).parse_args()  # --steps: phase 2's; --out holds the healthy GAN
    out_dir = args.out or Path(PRESETS[args.preset].out_dir)
    print(json.dumps(RunLog.summary_of(make_collapsed(args.preset, out_dir, args.steps, data_dir=args.data_dir))))


if __name__ == "__main__":
    main()
