"""Speed figures as JSON: `python -m genmodels.tools.bench {text,diffusion,gan,lab,lab-cover,batching,peers}`.

`--device cuda` measures on a GPU. `peers` compares us with transformers and diffusers on the same weights (dev
dependencies) and adds a table on stderr.
"""
import argparse
import json
import os
import statistics
import sys
from pathlib import Path

import torch

from genmodels.diffusion.generate import Settings, conditioning, sample
from genmodels.diffusion.pretrained import load_diffusion_model, make_denoiser
from genmodels.fastpath import FAST_PATH
from genmodels.gan.latent import interpolation_path, sample_latents
from genmodels.gan.pretrained import generate, load_gan
from genmodels.gan.toy2d import PRESETS, ToyGAN
from genmodels.gan.toy_requests import REDRAW_EVERY
from genmodels.pixels.sample import ASSET_DIR as PIXEL_ASSETS
from genmodels.runtime import DEVICE_ENV, device_name, make_generator, timer
from genmodels.text.pretrained import load_text_model
from genmodels.text.sampling import generate_tokens, next_token_logits, sample_tokens
from genmodels.text.tokenizer import encode
from genmodels.tools.bench_batching import bench_batching
from genmodels.tools.bench_lab import bench_lab, bench_lab_cover

BENCH_TEXT = ("KING.\nBring me the map, and let the council wait.\n\nQUEEN.\nMy lord, the riders came at dawn "
              "with word from the north, and every word was cold.\n")


def median_ms(fn, device, repeats: int, warmup: int = 3) -> float:
    """Median wall time of fn() in milliseconds, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        with timer(device) as elapsed:
            fn()
        times.append(elapsed.milliseconds)
    return statistics.median(times)


def bench_text(prompt_tokens: int = 200, new_tokens: int = 256, repeats: int = 30) -> dict:
    """Latency of one next-token step on a 200-token prompt, and generation speed at batch 1."""
    tm = load_text_model()
    model, device = tm.model, tm.model.lm_head.weight.device
    ids = [tm.start_id] + (encode(tm.tokenizer, BENCH_TEXT) * 20)[:prompt_tokens - 1]  # (prompt_tokens,)
    with torch.inference_mode():
        next_token_ms = median_ms(lambda: next_token_logits(model, ids), device, repeats)

    def generate():
        for _ in generate_tokens(model, ids, new_tokens, temperature=0.8, top_p=0.95,
                                 generator=make_generator(0, device)):
            pass

    def greedy():
        return sample_tokens(model, ids, new_tokens, temperature=0.0)

    generate_ms = median_ms(generate, device, repeats=3, warmup=1)
    result = {
        "family": "text", "device": str(device), "device_name": device_name(device), "threads": torch.get_num_threads(),
        "params": model.num_params(), "context": model.config.block_size,
        "prompt_tokens": prompt_tokens, "prompt_tokens_read": min(prompt_tokens, model.config.block_size),
        "next_token_step_ms": round(next_token_ms, 2),
        "generation_tokens": new_tokens, "generation_tokens_per_second": round(new_tokens / generate_ms * 1000, 1),
        "generation_ms_per_token": round(generate_ms / new_tokens, 2), "fast_path": fast_path_name(device),
    }
    if FAST_PATH.enabled(device):
        fast_tokens = greedy()
        with FAST_PATH.plain():
            plain_ms = median_ms(generate, device, repeats=3, warmup=1)
            result["greedy_tokens_equal_plain_path"] = torch.equal(fast_tokens, greedy())
        result["plain_generation_tokens_per_second"] = round(new_tokens / plain_ms * 1000, 1)
    return result


def fast_path_name(device: torch.device) -> str:
    """Which path the models run on this device."""
    if not FAST_PATH.enabled(device):
        return "plain (CUDA graphs need a CUDA device)"
    return "cuda graphs" if device.type == "cuda" else "static buffers without graphs (forced)"


def bench_diffusion(steps: int = 50, repeats: int = 10) -> dict:
    """Milliseconds per guided denoising step at batch 1 and 16, and the time of a 50-step guided DDIM sample."""
    dm = load_diffusion_model()
    device = dm.unet.conv_in.weight.device
    step_ms = {}
    for batch in (1, 16):
        cond, uncond = conditioning(dm, "a sneaker", batch)
        denoise = make_denoiser(dm.unet, cond, uncond, guidance_scale=3.0)
        x, t = torch.randn(batch, 1, 28, 28, device=device), torch.full((batch,), 500, device=device)
        step_ms[batch] = median_ms(lambda: denoise(x, t), device, repeats)
    settings = Settings(prompt="a sneaker", guidance=3.0, steps=steps, seed=0, count=1)
    sample_ms = median_ms(lambda: sample(dm, settings, keep=0), device, repeats=3, warmup=1)
    result = {
        "family": "diffusion", "device": str(device), "device_name": device_name(device),
        "threads": torch.get_num_threads(), "unet_params": dm.unet.num_params(),
        "guided_step_ms_batch_1": round(step_ms[1], 2), "guided_step_ms_batch_16": round(step_ms[16], 2),
        "sample_steps": steps, "guided_ddim_sample_ms": round(sample_ms, 1), "fast_path": fast_path_name(device),
    }
    if FAST_PATH.enabled(device):
        fast_images = sample(dm, settings, keep=0).images
        with FAST_PATH.plain():
            result["plain_guided_ddim_sample_ms"] = round(
                median_ms(lambda: sample(dm, settings, keep=0), device, repeats=3, warmup=1), 1)
            difference = (fast_images - sample(dm, settings, keep=0).images).abs().max().item()
        result["images_max_abs_difference_from_plain_path"] = difference
    return result


def bench_gan(frames: int = 64, toy_steps: int = 200, repeats: int = 10) -> dict:
    """A 64-frame spherical interpolation through the healthy generator, and 200 steps of the live 2-D GAN."""
    gan = load_gan("healthy")
    device = next(gan.generator.parameters()).device
    z_a, z_b = sample_latents(0, 2, gan.config.latent_dim)  # (dim,), (dim,)
    interpolation_ms = median_ms(lambda: generate(gan, interpolation_path(z_a, z_b, frames)), device, repeats)
    run = ToyGAN(PRESETS["Ring of 8: converges"])
    with timer() as elapsed:
        for _ in range(toy_steps):
            run.step()
    frame_ms = median_ms(lambda: toy_frame(run), None, repeats)
    return {
        "family": "gan", "device": str(device), "device_name": device_name(device),
        "threads": torch.get_num_threads(), "generator_params": gan.generator.num_params(),
        "interpolation_frames": frames, "interpolation_ms": round(interpolation_ms, 2),
        "toy_steps": toy_steps, "toy_steps_ms": round(elapsed.milliseconds, 1),
        "toy_steps_per_second": round(toy_steps / elapsed.seconds, 1),
        # one redraw of the live 2-D GAN (every REDRAW_EVERY steps) against the training it shows
        "toy_frame_ms": round(frame_ms, 1), "toy_redraw_every": REDRAW_EVERY,
        "toy_frame_vs_training": round(frame_ms / (elapsed.milliseconds / toy_steps * REDRAW_EVERY), 3),
    }


def toy_frame(run: ToyGAN):
    """What one redraw of the live 2-D GAN costs: its snapshot, and its figures where plotly and the UI are
    installed (the GPU machine has neither: there the snapshot alone is timed)."""
    snapshot = run.snapshot()
    try:
        from genmodels.ui.gan.toy import draw
    except ImportError:
        return snapshot
    return draw(snapshot)


def bench_peers(families=("text", "diffusion"), **diffusion_sizes) -> dict:
    """Ours against transformers' generate() and diffusers' DDIMScheduler on the same weights; a table on stderr."""
    from genmodels.tools.peers import compare_peers, table  # here, not above: genmodels.tools.peers imports this module

    result = compare_peers(families, **diffusion_sizes)
    print(table(result), file=sys.stderr)
    return result


BENCHES = {  # name -> run(parsed arguments)
    "text": lambda args: bench_text(),
    "diffusion": lambda args: bench_diffusion(),
    "gan": lambda args: bench_gan(),
    "lab": lambda args: bench_lab(args.steps or 1000),
    "lab-cover": lambda args: bench_lab_cover(args.steps or 2000),
    "batching": lambda args: bench_batching(args.users, args.tokens, args.steps or 30, args.pixel_assets),
    "peers": lambda args: bench_peers((args.only,) if args.only else ("text", "diffusion"), steps=args.steps or 50,
                                      repeats=args.repeats),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("family", choices=sorted(BENCHES))
    parser.add_argument("--device", help=f"cpu, cuda, mps (default: ${DEVICE_ENV} or the best available)")
    parser.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    parser.add_argument("--users", type=int, default=16, help="batching: simulated users")
    parser.add_argument("--tokens", type=int, default=64, help="batching: tokens per text request")
    parser.add_argument("--only", choices=("text", "diffusion"), help="peers: compare only this family")
    parser.add_argument("--steps", type=int, default=None,
                        help="DDIM steps: of peers' diffusion comparison (default 50), of batching's requests (on "
                             "average, default 30); lab: training steps per family (default 1000)")
    parser.add_argument("--repeats", type=int, default=5, help="peers: timed rounds of the diffusion comparison")
    parser.add_argument("--pixel-assets", type=Path, default=PIXEL_ASSETS,
                        help="batching: the pixel model's folder (default: the committed one in assets/pixels)")
    args = parser.parse_args()
    if args.device:
        os.environ[DEVICE_ENV] = args.device
    if args.threads:
        torch.set_num_threads(args.threads)
    print(json.dumps(BENCHES[args.family](args)))


if __name__ == "__main__":
    main()
