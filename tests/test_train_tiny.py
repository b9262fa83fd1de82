"""End-to-end `tiny` training run on a made-up play corpus: it learns, logs, and saves a loadable model."""
import json
import math
import random

import pytest
import torch

from genmodels.checkpoint import load_checkpoint
from genmodels.text.gpt import GPT, GPTConfig
from genmodels.text.tokenizer import END_OF_TEXT, decode, encode, load_tokenizer
from genmodels.text.train import PRESETS, train, validation_loss, validation_windows
from genmodels.timeline import snapshot_steps
from tests.conftest import cpu_one_thread

SPEAKERS = ["MARGERY", "TOBIAS", "CLERK", "DUKE", "NURSE", "PORTER"]
SUBJECTS = ["the king", "my lord", "the moon", "this bread", "the mayor", "your cousin", "the ship"]
VERBS = ["loves", "fears", "sells", "calls", "forgets", "keeps", "follows"]
OBJECTS = ["a shilling", "the market", "his hat", "the door", "our supper", "the river", "a letter"]
ENDINGS = [".", "!", "?", ", I think.", ", and so do I."]


def make_play(rng: random.Random, lines: int) -> str:
    out = [f"THE PLAY OF {rng.choice(SUBJECTS).upper()}", ""]
    for i in range(lines):
        if i % 25 == 0:
            out += [f"SCENE {i // 25 + 1}.", ""]
        speech = f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}{rng.choice(ENDINGS)}"
        out.append(f"{rng.choice(SPEAKERS)}. {speech}")
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    rng = random.Random(0)
    data_dir = tmp_path_factory.mktemp("data")
    out_dir = tmp_path_factory.mktemp("out") / "text"
    (data_dir / "train.txt").write_text("".join(END_OF_TEXT + make_play(rng, 200) for _ in range(4)))
    (data_dir / "val.txt").write_text("".join(END_OF_TEXT + make_play(rng, 100) for _ in range(2)))
    with cpu_one_thread():
            log = train("tiny", data_dir, out_dir)
    return data_dir, out_dir, log


def test_writes_tokenizer_checkpoint_and_log(run):
    _, out_dir, log = run
    for name in ("tokenizer.json", "gpt.json", "gpt.safetensors", "train_log.json"):
        assert (out_dir / name).stat().st_size > 0, name
    assert json.loads((out_dir / "train_log.json").read_text()) == json.loads(json.dumps(log))
    tokenizer = load_tokenizer(out_dir / "tokenizer.json")
    assert tokenizer.get_vocab_size() == log["config"]["vocab_size"] <= PRESETS["tiny"].vocab_size
    text = "DUKE. The moon keeps a letter!\n"
    assert decode(tokenizer, encode(tokenizer, text)) == text


def test_log_has_train_and_validation_curves(run):
    _, _, log = run
    tiny = PRESETS["tiny"]
    assert log["preset"] == "tiny" and log["device"] == "cpu"
    timeline = snapshot_steps(tiny.steps, tiny.log_interval)  # the timeline's snapshots are evaluated too
    assert log["val"]["step"] == sorted(set(range(0, tiny.steps, tiny.eval_interval)) | set(timeline))
    assert log["val"]["step"][-1] == tiny.steps
    assert log["train"]["step"] == list(range(0, tiny.steps, tiny.log_interval))
    assert len(log["val"]["loss"]) == len(log["val"]["step"])
    assert len(log["train"]["loss"]) == len(log["train"]["step"])
    assert log["best_val_loss"] == min(log["val"]["loss"])
    assert log["val"]["loss"][log["val"]["step"].index(log["best_step"])] == log["best_val_loss"]
    assert log["params"] == GPT(GPTConfig(**log["config"])).num_params()


def test_losses_fall(run):
    _, _, log = run
    val, train_loss = log["val"]["loss"], log["train"]["loss"]
    assert val[0] > 4.0  # starts near log(vocab): the model knows nothing
    assert val[-1] < 0.7 * val[0]
    assert log["best_val_loss"] < 0.7 * val[0]
    assert train_loss[-1] < 0.7 * train_loss[0]
    assert sum(train_loss[-3:]) / 3 < sum(train_loss[:3]) / 3


def test_saved_checkpoint_reproduces_the_best_validation_loss(run):
    data_dir, out_dir, log = run
    model, record = load_checkpoint(GPT, GPTConfig, out_dir / "gpt", "python -m genmodels.text.train --preset tiny")
    assert record["meta"] == {"step": log["best_step"], "val_loss": log["best_val_loss"]}
    tokenizer = load_tokenizer(out_dir / "tokenizer.json")
    val_tokens = torch.tensor(encode(tokenizer, (data_dir / "val.txt").read_text()), dtype=torch.long)
    assert len(val_tokens) == log["val_tokens"]
    windows = validation_windows(val_tokens, model.config.block_size, PRESETS["tiny"].eval_windows)
    loss = validation_loss(model, windows, torch.device("cpu"))
    assert loss == pytest.approx(log["best_val_loss"], abs=0.02)  # weights were stored in fp16
    fresh = GPT(model.config).eval()
    assert validation_loss(fresh, windows, torch.device("cpu")) > loss + 1.0


def test_validation_windows_are_non_overlapping_next_token_pairs():
    tokens = torch.arange(100)
    x, y = validation_windows(tokens, 8, 5)
    assert x.shape == y.shape == (5, 8)
    assert torch.equal(y, x + 1)
    assert x[0, 0] == 0 and x[-1, -1] <= 98
    starts = x[:, 0].tolist()
    assert all(b - a >= 8 for a, b in zip(starts, starts[1:]))
    x_all, _ = validation_windows(tokens, 8, 1000)
    assert len(x_all) == 99 // 8


def test_evaluate_reports_consistent_units_on_the_trained_model(run):
    """bits/char, nats/token and chars/token agree with each other and with a direct token-by-token sum."""
    from genmodels.text.evaluate import evaluate
    from genmodels.text.pretrained import load_text_model
    from genmodels.text.sampling import token_surprisals

    data_dir, out_dir, _ = run
    val_text = (data_dir / "val.txt").read_text()
    result = evaluate(val_text, out_dir)
    assert result["works"] == 2 and result["val_chars"] == len(val_text) - 2 * len(END_OF_TEXT)
    nats_per_char = result["val_nats_per_token"] / result["chars_per_token"]
    assert abs(result["val_bits_per_char"] - nats_per_char / math.log(2)) < 1e-3
    tm = load_text_model(out_dir)
    works = [w for w in val_text.split(END_OF_TEXT) if w]
    bits = sum(token_surprisals(tm.model, encode(tm.tokenizer, w), tm.start_id).sum().item() for w in works)
    assert abs(result["val_bits_per_char"] - bits / result["val_chars"]) < 1e-3
    assert result["val_bits_per_char"] < 8  # far below a uniform guess over bytes: the model learned
