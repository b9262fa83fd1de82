"""Train the DCGAN on Fashion-MNIST: `python -m genmodels.gan.train --preset cpu [--loss minimax]`.

Each step updates D once on a real and a generated batch, minimizing -[log D(x) + log(1 - D(G(z)))] (BCE with
logits), then G `g_steps` times with the non-saturating -log D(G(z)) or the minimax log(1 - D(G(z))) (losses.py);
Adam with lr 2e-4 and betas (0.5, 0.999) for both (Radford et al. 2015). The log holds the mean losses, D(x) and
D(G(z)) of every `log_interval` steps, and the steps of the snapshots: 8x8 grids of fixed-noise samples (G in
eval mode, as the app runs it), stacked top to bottom into one grayscale PNG sprite sheet for replay.
It writes healthy_* files; `genmodels.gan.collapse` makes the collapsed GAN from them.
Presets: `gpu` makes the reference weights on one H200-class GPU in about a minute, `cpu` runs on a 2-core
machine in minutes, `tiny` trains a few steps on a few hundred images (tests use it).
"""
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch
from tqdm import tqdm

from genmodels.data.fashion_mnist import load_split, to_model_range
from genmodels.gan.dcgan import Discriminator, GANConfig, Generator, weights_init
from genmodels.gan.latent import sample_latents
from genmodels.gan.losses import GENERATOR_LOSSES, discriminator_loss, generator_loss
from genmodels.gan.runlog import RunLog, snapshot_steps
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


def train(preset_name: str, out_dir: Path, steps: int | None = None, loss: str | None = None,
          images: torch.Tensor | None = None, data_dir: Path | None = None, seed: int = 0) -> dict:
    """Train G and D from scratch; write healthy_generator, _discriminator (.safetensors/.json), _train_log.json and
    _progress.png to out_dir. images: uint8 (N, 28, 28) to train on instead of Fashion-MNIST's train split."""
    preset = PRESETS[preset_name]
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
    settings = {k: v for k, v in asdict(preset).items() if k != "model"} | {"collapse": False}
    run = RunLog("healthy", preset_name, settings, G, D, len(x_all), preset.grid, preset.log_interval)
    keep_at = set(snapshot_steps(preset.steps, preset.snapshots))
    progress = tqdm(range(preset.steps), desc=f"gan[{preset_name}]", unit="step")
    for step in progress:
        if step in keep_at:
            run.snapshot(step, G, fixed_z)
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
        run.add(step, d_loss, g_loss, real_logits, fake_logits, progress)
    run.snapshot(preset.steps, G, fixed_z)
    meta = {"preset": preset_name, "kind": "healthy", "steps": preset.steps, "loss": preset.loss, "collapse": False}
    return run.save(out_dir, G, D, meta, fixed_z, x_all[:256])


def main() -> None:
    parser = image_training_arguments(__doc__, PRESETS)
    parser.add_argument("--loss", choices=GENERATOR_LOSSES, help="generator loss (default: the preset's)")
    args = parser.parse_args()
    out_dir = args.out or Path(PRESETS[args.preset].out_dir)
    log = train(args.preset, out_dir, args.steps, args.loss, data_dir=args.data_dir)
    print(json.dumps(RunLog.summary_of(log)))


if __name__ == "__main__":
    main()
