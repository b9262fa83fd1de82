"""`python -m genmodels.tools.bench batching`: the engines against one-request-at-a-time, through the families'
own request functions (the path the page and the API take).

For text, diffusion and pixels: `users` different requests (prompts, lengths, settings, step counts, guidance) run
one after another with batching off, then all at once through the engines; and one lone request each way, to show
that a request alone is not slower through its engine.
"""
import threading
import time
from functools import partial
from pathlib import Path

import torch

from genmodels import serving
from genmodels.data.fashion_mnist import CLASS_NAMES
from genmodels.diffusion.requests import DiffusionRequest, diffuse
from genmodels.paths import shown
from genmodels.pixels.requests import DEFAULT_GUIDANCE, PixelRequest
from genmodels.pixels.requests import sample as sample_pixels
from genmodels.pixels.sample import ASSET_DIR, load_pixel_model
from genmodels.runtime import device_name, percentile, pick_device
from genmodels.text.requests import GenerateRequest, generate_text

LINES = ("ROMEO.\n", "Now is the winter of our discontent\n", "KING.\nBring me the map, and let the council wait.\n",
         "To be, or not to be", "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\n")


def text_requests(users: int, tokens: int) -> list[GenerateRequest]:
    """Different prompts (lengths 1 to about 60 tokens) and sampling settings."""
    return [GenerateRequest.build(prompt=LINES[i % len(LINES)] * (1 + i % 3), max_new_tokens=tokens,
                                  temperature=(0.0, 0.7, 1.0, 1.3)[i % 4], top_k=(0, 40)[i % 2],
                                  top_p=(0.95, 1.0, 0.8)[i % 3], seed=i) for i in range(users)]


def diffusion_requests(users: int, steps: int) -> list[DiffusionRequest]:
    """Different prompts, step counts (steps / 2 to 3 steps / 2), guidance scales and samplers."""
    return [DiffusionRequest.build(prompt=f"a {CLASS_NAMES[i % 10].lower()}", steps=steps // 2 + (i * steps) // users,
                                   guidance=(0.0, 1.0, 3.0, 7.0)[i % 4], sampler="DDPM" if i % 4 == 3 else "DDIM",
                                   seed=i, count=2) for i in range(users)]


def pixel_requests(users: int, guidance: float) -> list[PixelRequest]:
    """One image each, of different classes and sampling settings, at one guidance scale."""
    return [PixelRequest.build(label=CLASS_NAMES[i % 10], count=1, temperature=(1.0, 0.8)[i % 2],
                               top_k=(0, 4)[i % 2], seed=i, guidance=guidance) for i in range(users)]


def timed_runs(run, requests: list, concurrent: bool) -> dict:
    """Run every request in its own thread, as the server runs each on a thread of its pool (all at once, or one
    after another); wall time and latencies. Not on the main thread: torch's OpenMP threads wait for work less
    eagerly once a second thread uses them, and a server always has one, so main-thread timings flatter a request."""
    latencies = []

    def one(request):
        started = time.perf_counter()
        run(request)
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    threads = [threading.Thread(target=one, args=(request,)) for request in requests]
    for thread in threads:
        thread.start()
        if not concurrent:
            thread.join()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {"seconds": round(seconds, 2), "p50_s": round(percentile(latencies, 50), 3),
            "p95_s": round(percentile(latencies, 95), 3)}


def compare(run, requests: list, work: float, unit: str) -> dict:
    """One after another without the engine, all at once through it, and the first request alone both ways."""
    run(requests[0])  # warm up (model load, first allocations)
    alone = serving.with_batching(False, lambda: timed_runs(run, requests, concurrent=False))
    together = serving.with_batching(True, lambda: timed_runs(run, requests, concurrent=True))
    lone_plain = serving.with_batching(False, lambda: timed_runs(run, requests[:1], concurrent=False))
    lone_engine = serving.with_batching(True, lambda: timed_runs(run, requests[:1], concurrent=False))
    return {"requests": len(requests), f"{unit}_per_second_one_after_another": round(work / alone["seconds"], 2),
            f"{unit}_per_second_batched": round(work / together["seconds"], 2),
            "batched_over_one_after_another": round(alone["seconds"] / together["seconds"], 2),
            "one_after_another": alone, "batched": together,
            "lone_request_s": {"plain": lone_plain["seconds"], "engine": lone_engine["seconds"],
                               "engine_over_plain": round(lone_engine["seconds"] / lone_plain["seconds"], 2)}}


def bench_batching(users: int = 16, text_tokens: int = 64, diffusion_steps: int = 30,
                   pixel_assets: Path = ASSET_DIR) -> dict:
    """Text, diffusion and pixel requests from `users` at once, through the engines and one after another; the
    pixel images drawn by the committed model, or by the one in `pixel_assets` (a rehearsal's tiny one)."""
    device = pick_device()
    result = {"family": "batching", "device": str(device), "device_name": device_name(device),
              "threads": torch.get_num_threads(), "users": users}
    texts = text_requests(users, text_tokens)
    result["text"] = compare(generate_text, texts, users * text_tokens, "tokens")
    images = diffusion_requests(users, diffusion_steps)
    result["diffusion"] = compare(diffuse, images, len(images), "requests")
    result["diffusion"]["steps"] = sorted({r.steps for r in images})
    draw = partial(sample_pixels, drawn_by=load_pixel_model(pixel_assets))
    result["pixels"] = compare(draw, pixel_requests(users, DEFAULT_GUIDANCE), users, "images")
    result["pixels_unguided"] = compare(draw, pixel_requests(users, 1.0), users, "images")
    result["pixel_assets"] = shown(pixel_assets)
    result["rows_per_tick"] = {engine.name: dict(sorted(engine.rows_per_tick.items())) for engine in serving.engines()}
    return result
