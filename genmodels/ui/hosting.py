"""Hosting on Hugging Face Spaces: ZeroGPU for model-running handlers, and when cached examples are computed.

ZeroGPU: when the `spaces` package exists, model-running handlers hold a GPU only while they run.

Elsewhere (a laptop, CI, a dedicated GPU Space) `on_gpu` returns the handler unchanged. Every wrapped handler
returns pictures, figures, text and CPU tensors only (trajectories and logits are moved with .cpu() where they are
made), because ZeroGPU hands results back from a GPU worker process.
"""
import atexit
import os
import shutil
import tempfile

try:
    import spaces
except ImportError:
    spaces = None

# Seconds each kind of request may hold the GPU, sized from the 2-core CPU's measured times (`python -m
# genmodels.bench`), which no GPU is slower than; ZeroGPU's default is 60 s, and shorter bounds queue sooner.
QUICK = 10  # a next token (9 ms on the CPU), GAN images or an interpolation (21 ms), a forward-process view
TEXT = 20  # 400 tokens, or 8 continuations of 200: under 3 s on the CPU at 353 tokens/s
IMAGES = 60  # 16 guided images x 50 steps: 4.9 s on the CPU (97 ms a step); the 1,000-step maximum takes 97 s
# there and relies on the GPU being 2x faster, which a small U-Net at batch 32 is many times over
RACE = 30  # one sample per family: at most 2.5 s (250 diffusion steps) + 1.4 s (784 pixels) on the CPU


def on_gpu(seconds: int):
    """spaces.GPU(duration=seconds) on ZeroGPU; the identity elsewhere."""
    def wrap(handler):
        return handler if spaces is None else spaces.GPU(duration=seconds)(handler)
    return wrap


# Cached examples are computed at launch on a Space (a GPU does them in seconds, and then a fresh Space answers
# at once) and on first use elsewhere, which keeps a 2-core CPU's cold start under 15 s.
EXAMPLES_CACHE_MODE = "eager" if os.environ.get("SPACE_ID") else "lazy"
# A fresh examples cache per process, removed at exit: cached outputs never outlive the weights that made them
# (Gradio's default, .gradio/ in the working directory, would serve stale images after retraining).
if "GRADIO_EXAMPLES_CACHE" not in os.environ:
    os.environ["GRADIO_EXAMPLES_CACHE"] = tempfile.mkdtemp(prefix="genmodels-examples-")
    atexit.register(shutil.rmtree, os.environ["GRADIO_EXAMPLES_CACHE"], ignore_errors=True)
