"""safetensors + JSON checkpoints: exact round trip, tied weights, and clear errors for broken files."""
import json
import re

import pytest
import torch
from safetensors.torch import load_file, save_file

from genmodels.checkpoint import CheckpointError, load_checkpoint, read_config, save_checkpoint
from genmodels.text.gpt import GPT, GPTConfig

pytestmark = pytest.mark.usefixtures("one_thread")
REMAKE = "python -m genmodels.text.train --preset tiny"
CONFIG = GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32)


def tiny_gpt(seed: int = 0, config: GPTConfig = CONFIG) -> GPT:
    torch.manual_seed(seed)
    model = GPT(config)
    with torch.no_grad():
        for param in model.parameters():  # move LayerNorms off their defaults so they are checked too
            param.add_(0.1 * torch.randn_like(param))
    return model.eval()


def ids(seed: int = 0) -> torch.Tensor:
    return torch.randint(0, 64, (2, 16), generator=torch.Generator().manual_seed(seed))


def logits(model: GPT) -> torch.Tensor:
    with torch.no_grad():
        return model(ids())


def assert_names(err: pytest.ExceptionInfo, path) -> None:
    message = str(err.value)
    assert str(path) in message
    assert REMAKE in message


def test_fp32_round_trip_is_exact_and_keeps_meta(tmp_path):
    model = tiny_gpt(1)
    stem = tmp_path / "nested" / "gpt"
    save_checkpoint(model, CONFIG, stem, half=False, meta={"step": 7, "val_loss": 1.25})
    loaded, record = load_checkpoint(GPT, GPTConfig, stem, REMAKE)
    assert loaded.config == CONFIG
    assert record["meta"] == {"step": 7, "val_loss": 1.25}
    assert not loaded.training
    for name, tensor in model.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    assert torch.equal(logits(loaded), logits(model))


def test_fp16_round_trip_is_close_and_stored_half(tmp_path):
    model = tiny_gpt(2)
    stem = tmp_path / "gpt"
    save_checkpoint(model, CONFIG, stem)  # half by default
    stored = load_file(str(stem.with_suffix(".safetensors")))
    assert all(t.dtype == torch.float16 for t in stored.values())
    loaded, _ = load_checkpoint(GPT, GPTConfig, stem, REMAKE)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    torch.testing.assert_close(logits(loaded), logits(model), atol=2e-2, rtol=1e-2)
    assert not torch.equal(logits(loaded), logits(model))  # it really went through fp16


def test_tied_weights_stored_once_and_tied_after_load(tmp_path):
    model = tiny_gpt(3)
    stem = tmp_path / "gpt"
    save_checkpoint(model, CONFIG, stem, half=False)
    stored = load_file(str(stem.with_suffix(".safetensors")))
    assert ("lm_head.weight" in stored) != ("wte.weight" in stored)  # exactly one copy on disk
    record = json.loads(stem.with_suffix(".json").read_text())
    assert record["tied"] in ({"lm_head.weight": "wte.weight"}, {"wte.weight": "lm_head.weight"})
    loaded, _ = load_checkpoint(GPT, GPTConfig, stem, REMAKE)
    assert loaded.lm_head.weight is loaded.wte.weight
    assert torch.equal(loaded.lm_head.weight, model.lm_head.weight)


def test_read_config(tmp_path):
    stem = tmp_path / "gpt"
    save_checkpoint(tiny_gpt(4), CONFIG, stem, half=False)
    config, record = read_config(stem, GPTConfig, REMAKE)
    assert config == CONFIG and record["config"]["n_embd"] == 32


@pytest.fixture
def saved(tmp_path):
    stem = tmp_path / "gpt"
    save_checkpoint(tiny_gpt(5), CONFIG, stem, half=False)
    return stem


def test_missing_json(saved):
    saved.with_suffix(".json").unlink()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, saved.with_suffix(".json"))


@pytest.mark.parametrize("content", ["{not json", "[]", json.dumps({"meta": {}}),
                                     json.dumps({"config": {"vocab_size": 64, "no_such_field": 1}})])
def test_unreadable_json(saved, content):
    saved.with_suffix(".json").write_text(content)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, saved.with_suffix(".json"))


def test_missing_safetensors(saved):
    saved.with_suffix(".safetensors").unlink()
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, saved.with_suffix(".safetensors"))


def test_truncated_safetensors(saved):
    weights = saved.with_suffix(".safetensors")
    data = weights.read_bytes()
    weights.write_bytes(data[:len(data) // 2])
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, weights)


@pytest.mark.parametrize("garbage", [b"", b"\x00\x01\x02", b"not a safetensors file at all " * 40,
                                     (8).to_bytes(8, "little") + b"{garbage"])
def test_garbage_safetensors(saved, garbage):
    weights = saved.with_suffix(".safetensors")
    weights.write_bytes(garbage)
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, weights)


@pytest.mark.parametrize("change", [{"n_embd": 48}, {"vocab_size": 80}, {"n_layer": 3}, {"n_layer": 1}])
def test_config_and_weights_disagree(saved, change):
    path = saved.with_suffix(".json")
    record = json.loads(path.read_text())
    record["config"].update(change)
    path.write_text(json.dumps(record))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, saved.with_suffix(".safetensors"))


def test_weights_missing_a_tensor(saved):
    weights = saved.with_suffix(".safetensors")
    state = load_file(str(weights))
    del state["blocks.0.ln_1.weight"]
    save_file(state, str(weights))
    with pytest.raises(CheckpointError) as err:
        load_checkpoint(GPT, GPTConfig, saved, REMAKE)
    assert_names(err, weights)


def test_error_message_names_path_for_a_relative_stem(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CheckpointError, match=re.escape("assets/text/gpt.json")) as err:
        load_checkpoint(GPT, GPTConfig, "assets/text/gpt", REMAKE)
    assert REMAKE in str(err.value)


def test_loaded_once_loads_each_argument_once_even_when_requests_race():
    import threading
    import time

    from genmodels.checkpoint import loaded_once
    calls = []

    @loaded_once
    def load(name):
        calls.append(name)
        time.sleep(0.05)  # a slow first load: the other threads must wait for it, not start their own
        return object()

    results = []
    threads = [threading.Thread(target=lambda: results.append(load("a"))) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == ["a"] and all(r is results[0] for r in results)
    assert load("b") is not results[0] and calls == ["a", "b"]
