"""Hosting on Hugging Face Spaces: ZeroGPU for model-running handlers, and when cached examples are computed.

ZeroGPU: when the `spaces` package exists, model-running handlers hold a GPU only while they run.

Everywhere, `on_gpu` and `answers` turn a RequestError (a bad value, a missing model file) into the gr.Error its
message is written for, and an out-of-memory error into freed memory and a clear message to the one user whose
request failed; the next request runs as usual. Every wrapped handler returns pictures, figures, text and
CPU tensors only (trajectories and logits are moved with .cpu() where they are made), because ZeroGPU hands
results back from a GPU worker process.
"""
import atexit
import functools
import gc
import inspect
import os
import shutil
import tempfile

import gradio as gr
import torch

from genmodels.errors import RequestError

try:
    import spaces
except ImportError:
    spaces = None

# Seconds each kind of request may hold the GPU, sized from the 2-core CPU's measured times (`python -m
# genmodels.tools.bench`), which no GPU is slower than; ZeroGPU's default is 60 s, and shorter bounds queue sooner.
QUICK = 10  # a next token (9 ms on the CPU), GAN images or an interpolation (21 ms), a forward-process view
TEXT = 20  # 400 tokens, or 8 continuations of 200: under 3 s on the CPU at 353 tokens/s
IMAGES = 60  # 16 guided images x 50 steps: 4.9 s on the CPU (97 ms a step); the 1,000-step maximum takes 97 s
# there and relies on the GPU being 2x faster, which a small U-Net at batch 32 is many times over
RACE = 30  # one sample per family: at most 2.5 s (250 diffusion steps) + 1.4 s (784 pixels) on the CPU


OUT_OF_MEMORY = ("The server ran out of memory for this request (others may be using it too). The memory is freed "
                 "now: try again, or ask for fewer images, steps or tokens.")


def free_memory() -> None:
    """Collect garbage and hand the GPU's cached blocks back to the driver."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def guarded(call, *args):
    """`call(*args)`; a RequestError becomes a gr.Error, and an out-of-memory error frees memory first and becomes
    one."""
    try:
        return call(*args)
    except RequestError as err:
        raise gr.Error(str(err)) from None
    except torch.OutOfMemoryError:
        pass  # the except block ends first: its traceback holds the frames (and tensors) that filled the memory
    free_memory()
    raise gr.Error(OUT_OF_MEMORY)


def answers(handler):
    """`handler` with its errors answered by `guarded`; a generator stays a generator (Gradio streams it)."""
    if inspect.isgeneratorfunction(handler):
        @functools.wraps(handler)
        def stream(*args, **kwargs):
            items, done = handler(*args, **kwargs), object()
            while (item := guarded(next, items, done)) is not done:
                yield item
        return stream

    @functools.wraps(handler)
    def call(*args, **kwargs):
        return guarded(functools.partial(handler, *args, **kwargs))
    return call


def on_gpu(seconds: int):
    """`answers`, inside spaces.GPU(duration=seconds) on ZeroGPU (where the GPU memory is)."""
    def wrap(handler):
        handler = answers(handler)
        return handler if spaces is None else spaces.GPU(duration=seconds)(handler)
    return wrap


# Cached examples are computed at launch on a Space (a GPU does them in seconds, and then a fresh Space answers
# at once) and on first use elsewhere, which keeps a 2-core CPU's cold start under 15 s.
EXAMPLES_CACHE_MODE = "eager" if os.environ.get("SPACE_ID") else "lazy"


def use_fresh_examples_cache() -> None:
    """A fresh examples cache for this process, removed at exit, unless GRADIO_EXAMPLES_CACHE names one: cached
    outputs never outlive the weights that made them (Gradio's default, .gradio/ in the working directory, would
    serve stale images after retraining). Called when the app is built, not on import."""
    if "GRADIO_EXAMPLES_CACHE" not in os.environ:
        os.environ["GRADIO_EXAMPLES_CACHE"] = tempfile.mkdtemp(prefix="genmodels-examples-")
        atexit.register(shutil.rmtree, os.environ["GRADIO_EXAMPLES_CACHE"], ignore_errors=True)
