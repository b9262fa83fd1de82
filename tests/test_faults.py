"""Faults: damaged model files, a GPU out of memory, a server killed mid-request. The app starts, says what is
wrong and how to fix it, frees what it can, keeps serving, and never writes to its assets."""
import hashlib
import importlib
import inspect
import pkgutil
import re
import shutil
import time
import weakref

import gradio as gr
import pytest
import torch
from gradio_client import Client
from gradio_client.exceptions import AppError
from gradio_client.utils import Status

import genmodels.ui
from genmodels.checkpoint import CheckpointError, read_config, read_log
from genmodels.text import explain
from genmodels.text.gpt import GPTConfig
from genmodels.text.tokenizer import load_tokenizer
from genmodels.ui import hosting
from tests.conftest import ROOT, app_copy, served
from tests.test_app import assert_clean_error, call

pytestmark = pytest.mark.app
GREEDY = dict(prompt="KING.\n", temperature=0, top_k=0, top_p=1, seed=0)
FAMILY_CALLS = {  # one cheap request per family, a key of its result, and the command that re-creates its files
    "text": ("next_token", GREEDY, "token", "python -m genmodels.text.train --preset gpu"),
    "pixels": ("pixels_sample", dict(label="Bag", count=1, temperature=1, top_k=0, top_p=1, seed=0), "images",
               "python -m genmodels.pixels.train --preset gpu"),
    "diffusion": ("forward_process", dict(example=7, t=500, seed=0), "x_t",
                  "python -m genmodels.diffusion.train --preset gpu"),
    "healthy GAN": ("gan_sample", dict(kind="healthy", seed=0, count=1), "images",
                    "python -m genmodels.gan.train --preset cpu"),
    "collapsed GAN": ("gan_sample", dict(kind="collapsed", seed=0, count=1), "images",
                      "python -m genmodels.gan.collapse --preset cpu"),
}
DAMAGES = {
    "missing": lambda path: path.unlink(),
    "truncated": lambda path: path.write_bytes(path.read_bytes()[:path.stat().st_size // 2]),
    "corrupted": lambda path: path.write_bytes(b"\x00\xff garbage " * 8 + path.read_bytes()[88:]),
}
# Each run damages two families' files (weights, config or tokenizer) and a training log or evaluation read while
# the page is built, and checks that the app starts and the other three families still work.
SCENARIOS = [
    ("missing", {"assets/text/gpt.safetensors": "text", "assets/pixels/pixel_transformer.json": "pixels",
                 "assets/text/train_log.json": None}),
    ("truncated", {"assets/diffusion/unet.safetensors": "diffusion", "assets/gan/healthy_discriminator.json":
                   "healthy GAN", "assets/diffusion/train_log.json": None}),
    ("corrupted", {"assets/text/tokenizer.json": "text", "assets/gan/collapsed_generator.safetensors":
                   "collapsed GAN", "assets/gan/evaluation.json": None}),
]


@pytest.mark.parametrize("damage, damaged", SCENARIOS, ids=[damage for damage, _ in SCENARIOS])
def test_a_damaged_model_file_is_named_with_its_command_and_the_other_tabs_work(tmp_path, damage, damaged):
    root = app_copy(tmp_path)
    for path in damaged:
        DAMAGES[damage](root / path)
    with served(root, tmp_path / "app.log") as (url, _):
        client = Client(url, verbose=False)
        for path, family in damaged.items():
            if family is None:
                continue
            api, kwargs, _, remake = FAMILY_CALLS[family]
            with pytest.raises(AppError) as excinfo:
                call(client, api, **kwargs)
            assert_clean_error(excinfo, path, remake)
        for family in FAMILY_CALLS.keys() - set(damaged.values()):
            api, kwargs, key, _ = FAMILY_CALLS[family]
            assert call(client, api, **kwargs)[key]
        assert call(client, "compare_report")["command"]


@pytest.mark.parametrize("damage", sorted(DAMAGES))
def test_damaged_configs_and_tokenizers_are_named_and_damaged_logs_are_absent(tmp_path, damage):
    for name in ("gpt.json", "tokenizer.json", "train_log.json"):
        shutil.copy(ROOT / "assets/text" / name, tmp_path / name)
        DAMAGES[damage](tmp_path / name)
    with pytest.raises(CheckpointError, match=re.escape(str(tmp_path / "gpt.json"))):
        read_config(tmp_path / "gpt", GPTConfig, "python -m genmodels.text.train --preset gpu")
    with pytest.raises((CheckpointError, FileNotFoundError), match="tokenizer.json .*python -m genmodels.text.train"):
        load_tokenizer(tmp_path / "tokenizer.json")
    assert read_log(tmp_path / "train_log.json") is None


def test_out_of_memory_reaches_only_that_request_frees_memory_and_the_next_request_works(client, monkeypatch):
    expected = call(client, "next_token", **GREEDY)
    original, failed, emptied = explain.next_token_logits_for, [], []

    def out_of_memory_once(*args):
        if failed:
            return original(*args)
        filled = torch.ones(4 * 2**20)  # 16 MB the failing request holds when the error strikes
        failed.append(weakref.ref(filled))
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    monkeypatch.setattr(explain, "next_token_logits_for", out_of_memory_once)
    with monkeypatch.context() as gpu:
        gpu.setattr(torch.cuda, "is_available", lambda: True)
        gpu.setattr(torch.cuda, "empty_cache", lambda: emptied.append(True))
        with pytest.raises(AppError) as excinfo:
            call(client, "next_token", **GREEDY)
    assert_clean_error(excinfo, "out of memory", "try again")
    assert failed[0]() is None and emptied  # the request's tensors are gone and the GPU cache was handed back
    assert call(client, "next_token", **GREEDY) == expected


def test_out_of_memory_mid_stream_keeps_the_streamed_steps_and_ends_with_the_message():
    def stream(steps):
        yield from range(steps)
        raise torch.OutOfMemoryError("CUDA out of memory")

    guarded = hosting.on_gpu(hosting.QUICK)(stream)
    assert inspect.isgeneratorfunction(guarded)  # Gradio streams only generator functions
    steps = guarded(2)
    assert [next(steps), next(steps)] == [0, 1]
    with pytest.raises(gr.Error, match="out of memory"):
        next(steps)


def test_every_model_handler_is_guarded_and_stays_a_generator_when_it_streams():
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(genmodels.ui.__path__, "genmodels.ui.")]
    handlers = {f for module in modules for f in vars(module).values()  # the functions that on_gpu wrapped
                if inspect.isfunction(f) and f.__module__ == module.__name__ and hasattr(f, "__wrapped__")}
    assert all(h.__code__.co_qualname.startswith("answers.") for h in handlers) and len(handlers) >= 20
    for handler in handlers:
        assert inspect.isgeneratorfunction(handler) == inspect.isgeneratorfunction(handler.__wrapped__), handler
    assert any(inspect.isgeneratorfunction(handler) for handler in handlers)


def digests(root) -> dict:
    """{path: sha256} of every file under `root`."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_killing_the_server_mid_request_leaves_its_files_as_they_were(tmp_path):
    root = app_copy(tmp_path / "app")
    before = digests(root)
    with served(root, tmp_path / "app.log") as (url, process):
        client = Client(url, verbose=False)
        assert call(client, "gan_sample", kind="healthy", seed=0, count=1)["images"]
        job = client.submit(prompt="a bag", guidance=3.0, steps=1000, sampler="DDPM", eta=0.0, seed=0, count=16,
                            api_name="/diffuse")  # about 100 s on 2 CPU cores
        deadline = time.monotonic() + 60
        while job.status().code != Status.PROCESSING and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
        assert job.status().code == Status.PROCESSING and not job.done()
        process.kill()  # SIGKILL: nothing gets to clean up
        process.wait()
    after = digests(root)
    assert {p: d for p, d in after.items() if "__pycache__" not in p} == before  # Python's own bytecode aside
    with served(root, tmp_path / "again.log") as (url, _):  # and it starts again, as good as before
        assert call(Client(url, verbose=False), "next_token", **GREEDY)["token"]
