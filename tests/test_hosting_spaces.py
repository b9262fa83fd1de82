"""ZeroGPU: with a `spaces` package every model-running handler is wrapped with its GPU duration; without it, none
(they keep only the guard that answers request errors and out-of-memory errors)."""
import inspect
import json
import subprocess
import sys
from pathlib import Path

from genmodels.ui import hosting

FAKE_SPACES = '''
import functools, inspect

def GPU(duration):
    """Like spaces.GPU: keeps generators generators, and marks the handler with its duration."""
    def wrap(fn):
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def inner(*args, **kwargs):
                yield from fn(*args, **kwargs)
        else:
            @functools.wraps(fn)
            def inner(*args, **kwargs):
                return fn(*args, **kwargs)
        inner.zerogpu_seconds = duration
        return inner
    return wrap
'''

INSPECT_APP = '''
import inspect, json
from genmodels.ui import build_demo
from genmodels.ui.gan.api import gan_sample
demo = build_demo()
report = {}
for fn in demo.fns.values():
    handler = fn.fn
    if fn.api_name and handler is not None:
        report[fn.api_name] = [getattr(handler, "zerogpu_seconds", None), inspect.isgeneratorfunction(handler)]
report["gan_sample_result"] = len(gan_sample("healthy", 3, 2)["images"])
print(json.dumps(report))
'''

MODEL_HANDLERS = {  # api_name: the handler streams
    "next_token": False, "generate_text": False, "continuations": False, "score_text": False,
    "ui_next_token": False, "ui_generate": True, "diffuse": False, "forward_process": False,
    "compare_guidance": False, "interpolate_noise": False, "ui_diffuse": True, "ui_understood": False,
    "ui_compare_guidance": False, "ui_interpolate_noise": False, "gan_sample": False, "gan_interpolate": False,
    "gan_discriminate": False, "ui_gan_sample": False, "ui_gan_interpolate": False, "ui_gan_walk": False,
    "pixels_sample": False, "ui_pixels_draw": True, "race": False, "ui_race": True, "ui_remeasure": False,
    "noise_prediction": False, "diffusion_map": False, "ui_diffusion_map": False,
    "attention": False, "logit_lens": False, "ui_inside": False, "ui_inside_tab": False, "pixel_attention": False,
    "ui_pixels_inspect": False,
}
NO_MODEL = ["ui_reset_next_token", "ui_scrub", "ui_pick_token", "compare_report", "training_timeline",
            "ui_text_lessons", "toy_gan_step", "toy_gan_step_d", "toy_gan_step_g",
            "gan_manifold", "ui_inside_layer", "ui_inside_head"]


def test_without_spaces_handlers_only_gain_the_error_guard(monkeypatch):
    monkeypatch.setattr(hosting, "spaces", None)

    def handler(x: int = 1) -> int:
        return x + 1

    wrapped = hosting.on_gpu(hosting.IMAGES)(handler)
    assert wrapped(2) == 3 and wrapped.__wrapped__ is handler and not hasattr(wrapped, "zerogpu_seconds")
    assert inspect.signature(wrapped) == inspect.signature(handler)  # gr.api reads the parameters from it


def test_with_spaces_every_model_handler_holds_the_gpu_and_streams_still_stream(tmp_path):
    (tmp_path / "spaces.py").write_text(FAKE_SPACES)
    env_path = f"{tmp_path}:{Path(__file__).resolve().parents[1]}"
    out = subprocess.run([sys.executable, "-c", INSPECT_APP], capture_output=True, text=True, timeout=300,
                         env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin", "GENMODELS_DEVICE": "cpu",
                              "OMP_NUM_THREADS": "1", "HOME": str(tmp_path)})
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report.pop("gan_sample_result") == 2  # a wrapped handler still answers
    for api_name, streams in MODEL_HANDLERS.items():
        seconds, is_generator = report[api_name]
        assert seconds in (hosting.QUICK, hosting.TEXT, hosting.IMAGES, hosting.RACE), api_name
        assert is_generator == streams, api_name
    assert report["ui_diffuse"][0] == hosting.IMAGES and report["next_token"][0] == hosting.QUICK
    for api_name in NO_MODEL:
        assert report[api_name][0] is None, api_name
