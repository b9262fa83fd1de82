"""Sampling rules (temperature, top-k, top-p) against Hugging Face's logits warpers, and the
KV-cached token generator against a plain full-recompute loop."""
import math
import warnings

import pytest
import torch
from transformers.generation.logits_process import TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper

from genmodels.text import sampling
from genmodels.text.gpt import GPT, GPTConfig
from genmodels.text.sampling import (
    adjust_logits,
    apply_temperature,
    apply_top_k,
    apply_top_p,
    entropy_bits,
    generate_tokens,
    next_token_logits,
    sample_tokens,
    sampling_step,
    token_surprisals,
)

V = 500
pytestmark = pytest.mark.usefixtures("one_thread")
TEMPERATURES = (0.3, 0.7, 1.0, 1.5)
TOP_KS = (1, 5, 50, 499)
TOP_PS = (0.1, 0.5, 0.9, 0.99)


def random_logits(seed: int, dtype=torch.float64, rows: int = 4) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return (3.0 * torch.randn(rows, V, generator=generator)).to(dtype)  # (rows, V)


def hf_adjust(logits: torch.Tensor, temperature: float, top_k: int, top_p: float) -> torch.Tensor:
    """Hugging Face's warpers in the same order: temperature -> top-k -> top-p."""
    input_ids = torch.zeros(logits.shape[0], 1, dtype=torch.long)
    scores = TemperatureLogitsWarper(temperature)(input_ids, logits.clone())
    scores = TopKLogitsWarper(top_k)(input_ids, scores)
    return TopPLogitsWarper(top_p)(input_ids, scores)


def tiny_gpt(seed: int = 0, block_size: int = 16, scale: float = 0.3, n_layer: int = 2) -> GPT:
    """A small random GPT whose weights are large enough that context visibly changes the logits."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(vocab_size=64, block_size=block_size, n_layer=n_layer, n_head=2, n_embd=32))
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() >= 2:
                param.normal_(0.0, scale)
    return model.eval()


# --- the rules against the Hugging Face oracle -------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_adjust_logits_matches_hugging_face_warpers(dtype):
    # 20 seeds x 4 rows each, stacked: every rule works row by row
    logits = torch.cat([random_logits(seed, dtype) for seed in range(20)])  # (80, V)
    compared = 0
    for temperature in TEMPERATURES:
        for top_k in TOP_KS:
            for top_p in TOP_PS:
                ours = adjust_logits(logits, temperature, top_k, top_p)
                theirs = hf_adjust(logits, temperature, top_k, top_p)
                setting = f"T={temperature} k={top_k} p={top_p}"
                assert torch.equal(torch.isfinite(ours), torch.isfinite(theirs)), setting
                torch.testing.assert_close(ours.softmax(-1), theirs.softmax(-1), rtol=1e-5, atol=1e-7,
                                           msg=setting)
                compared += 1
    assert compared == 4 * 4 * 4


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_temperature_alone_matches_hugging_face(temperature):
    logits = random_logits(1)
    theirs = TemperatureLogitsWarper(temperature)(torch.zeros(4, 1, dtype=torch.long), logits.clone())
    torch.testing.assert_close(apply_temperature(logits, temperature).softmax(-1), theirs.softmax(-1))


@pytest.mark.parametrize("top_k", TOP_KS)
def test_top_k_alone_matches_hugging_face(top_k):
    logits = random_logits(2)
    theirs = TopKLogitsWarper(top_k)(torch.zeros(4, 1, dtype=torch.long), logits.clone())
    ours = apply_top_k(logits, top_k)
    assert torch.equal(torch.isfinite(ours), torch.isfinite(theirs))
    assert (torch.isfinite(ours).sum(-1) == top_k).all()


@pytest.mark.parametrize("top_p", TOP_PS)
def test_top_p_alone_matches_hugging_face(top_p):
    logits = random_logits(3)
    theirs = TopPLogitsWarper(top_p)(torch.zeros(4, 1, dtype=torch.long), logits.clone())
    assert torch.equal(torch.isfinite(apply_top_p(logits, top_p)), torch.isfinite(theirs))


# --- temperature -----------------------------------------------------------------------------

def test_temperature_zero_is_argmax_one_hot_without_nan_or_warnings():
    logits = random_logits(4, torch.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        adjusted = apply_temperature(logits, 0.0)
        probs = adjusted.softmax(-1)
    assert not torch.isnan(probs).any()
    expected = torch.nn.functional.one_hot(logits.argmax(-1), V).float()
    assert torch.equal(probs, expected)
    assert torch.equal(torch.isfinite(adjusted).sum(-1), torch.ones(4, dtype=torch.long))


def test_temperature_zero_picks_first_of_tied_maxima():
    logits = torch.tensor([[1.0, 3.0, -2.0, 3.0, 0.5], [7.0, 7.0, 7.0, 7.0, 7.0]])
    kept = torch.isfinite(apply_temperature(logits, 0))
    assert kept.tolist() == [[False, True, False, False, False], [True, False, False, False, False]]


def test_temperature_scales_logits_and_flattens_or_sharpens():
    logits = torch.tensor([2.0, 1.0, 0.0])
    torch.testing.assert_close(apply_temperature(logits, 2.0), logits / 2)
    hot, cold = apply_temperature(logits, 2.0).softmax(-1), apply_temperature(logits, 0.5).softmax(-1)
    base = logits.softmax(-1)
    assert entropy_bits(hot) > entropy_bits(base) > entropy_bits(cold)


def test_negative_temperature_raises():
    with pytest.raises(ValueError):
        apply_temperature(torch.zeros(3), -1.0)
    with pytest.raises(ValueError):
        adjust_logits(torch.zeros(3), -0.5, 0, 1.0)


# --- top-k -----------------------------------------------------------------------------------

@pytest.mark.parametrize("k", [0, V, V + 1, 10 * V])
def test_top_k_zero_or_at_least_vocab_is_a_no_op(k):
    logits = random_logits(5, torch.float32)
    assert torch.equal(apply_top_k(logits, k), logits)


def test_top_k_keeps_exactly_the_k_largest():
    logits = torch.tensor([0.1, 5.0, -1.0, 3.0, 2.0, 4.0])
    kept = torch.isfinite(apply_top_k(logits, 3))
    assert kept.tolist() == [False, True, False, True, False, True]
    torch.testing.assert_close(apply_top_k(logits, 3)[kept], logits[kept])


def test_negative_top_k_raises():
    with pytest.raises(ValueError):
        apply_top_k(torch.zeros(5), -1)


# --- top-p -----------------------------------------------------------------------------------

@pytest.mark.parametrize("p, kept", [(0.3, 1), (0.5, 1), (0.6, 2), (0.75, 2), (0.76, 3), (0.875, 3), (0.9, 4)])
def test_top_p_keeps_the_token_that_crosses_p(p, kept):
    # probabilities exact in binary; shuffled so the rule has to sort and scatter back
    probs = torch.tensor([0.125, 0.5, 0.125, 0.25])
    by_rank = [1, 3, 0, 2]  # most likely first (ties in any order among the two 0.125s)
    mask = torch.isfinite(apply_top_p(probs.log(), p))
    assert mask.sum().item() == kept
    assert mask[by_rank[:min(kept, 2)]].all()
    if kept < 3:
        assert not mask[[0, 2]].any()


def test_top_p_keeps_one_token_for_tiny_p():
    logits = random_logits(6, torch.float32)
    mask = torch.isfinite(apply_top_p(logits, 1e-9))
    assert torch.equal(mask.sum(-1), torch.ones(4, dtype=torch.long))
    assert torch.equal(mask.float().argmax(-1), logits.argmax(-1))


def test_top_p_one_is_a_no_op():
    logits = random_logits(7, torch.float32)
    assert torch.equal(apply_top_p(logits, 1.0), logits)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.0001, 2.0, float("nan")])
def test_top_p_out_of_range_raises(p):
    with pytest.raises(ValueError):
        apply_top_p(torch.zeros(5), p)


def test_top_p_survivors_keep_relative_odds():
    logits = random_logits(8, torch.float32)
    adjusted = apply_top_p(logits, 0.7)
    kept = torch.isfinite(adjusted)
    renormalized = torch.where(kept, logits.softmax(-1), torch.zeros(()))
    renormalized = renormalized / renormalized.sum(-1, keepdim=True)
    torch.testing.assert_close(adjusted.softmax(-1), renormalized)


def test_adjust_logits_is_temperature_then_top_k_then_top_p():
    for seed in range(5):
        logits = random_logits(seed, torch.float32)
        for temperature in (0.0, 0.5, 1.3):
            for top_k in (0, 3, 40):
                for top_p in (0.2, 0.8, 1.0):
                    expected = apply_top_p(apply_top_k(apply_temperature(logits, temperature), top_k), top_p)
                    assert torch.equal(adjust_logits(logits, temperature, top_k, top_p), expected)


# --- entropy ---------------------------------------------------------------------------------

def test_entropy_bits_uniform_and_one_hot():
    assert entropy_bits(torch.full((8,), 1 / 8)).item() == pytest.approx(3.0, abs=1e-6)
    one_hot = torch.zeros(2, 10)
    one_hot[0, 3] = one_hot[1, 0] = 1.0
    entropy = entropy_bits(one_hot)
    assert not torch.isnan(entropy).any()
    assert entropy.tolist() == [0.0, 0.0]
    assert entropy_bits(torch.tensor([0.5, 0.5, 0.0])).item() == pytest.approx(1.0)


# --- one sampling step -----------------------------------------------------------------------

def test_sampling_step_draws_only_kept_tokens():
    logits = random_logits(9, torch.float32)
    generator = torch.Generator().manual_seed(0)
    step = sampling_step(logits, 1.2, 20, 0.8, generator, index=4)
    assert step.index == 4
    assert torch.equal(step.candidates, step.kept.sum(-1))
    assert (step.candidates <= 20).all() and (step.candidates >= 1).all()
    torch.testing.assert_close(step.raw_probs.sum(-1), torch.ones(4))
    torch.testing.assert_close(step.probs.sum(-1), torch.ones(4))
    torch.testing.assert_close(step.raw_probs, logits.softmax(-1))
    assert (step.probs[~step.kept] == 0).all()
    torch.testing.assert_close(step.entropy_bits, entropy_bits(step.probs))
    torch.testing.assert_close(step.raw_entropy_bits, entropy_bits(step.raw_probs))
    seen = set()
    for _ in range(300):
        token = sampling_step(logits, 1.2, 20, 0.8, generator).token
        assert step.kept.gather(-1, token[:, None]).all()
        seen.update((row, t) for row, t in enumerate(token.tolist()))
    assert len(seen) > 4  # it does sample, not just take the argmax


def test_sampling_step_same_seed_same_tokens():
    logits = random_logits(10, torch.float32)

    def draws(seed):
        generator = torch.Generator().manual_seed(seed)
        return torch.stack([sampling_step(logits, 1.0, 0, 1.0, generator).token for _ in range(50)])

    assert torch.equal(draws(7), draws(7))
    assert not torch.equal(draws(7), draws(8))


def test_sampling_step_frequencies_follow_the_adjusted_distribution():
    logits = torch.tensor([[2.0, 1.0, 0.5, 0.0, -1.0]])
    generator = torch.Generator().manual_seed(3)
    step = sampling_step(logits, 0.8, 4, 0.9, generator)
    counts = torch.zeros(5)
    for _ in range(4000):
        counts[sampling_step(logits, 0.8, 4, 0.9, generator).token[0]] += 1
    torch.testing.assert_close(counts / counts.sum(), step.probs[0], atol=0.03, rtol=0)


# --- generation with a model -----------------------------------------------------------------

def greedy_full_recompute(model: GPT, prompt: list[int], new_tokens: int) -> list[int]:
    ids = list(prompt)
    block = model.config.block_size
    with torch.no_grad():
        for _ in range(new_tokens):
            logits = model(torch.tensor([ids[-block:]]))[0, -1]
            ids.append(int(logits.argmax()))
    return ids[len(prompt):]


def test_same_seed_gives_identical_generation():
    model = tiny_gpt(1)
    prompt = [3, 1, 4, 1, 5]

    def run(seed):
        return sample_tokens(model, prompt, 25, temperature=1.0, top_k=20, top_p=0.95,
                             generator=torch.Generator().manual_seed(seed), batch_size=2)

    first = run(11)
    assert first.shape == (2, 25)
    assert torch.equal(first, run(11))
    assert not torch.equal(first, run(12))


@pytest.mark.parametrize("prompt_len, new_tokens", [(1, 15), (10, 6), (4, 12)])
def test_greedy_generation_within_context_equals_full_recompute_loop(prompt_len, new_tokens):
    """Temperature 0 through the KV cache while prompt + generated tokens fit in block_size (16)."""
    model = tiny_gpt(2)
    prompt = [(7 * i + 3) % 64 for i in range(prompt_len)]
    generated = sample_tokens(model, prompt, new_tokens, temperature=0.0)
    assert generated.shape == (1, new_tokens)
    expected = greedy_full_recompute(model, prompt, new_tokens)
    assert generated[0].tolist() == expected
    assert len(set(expected)) > 1  # a constant sequence would not exercise much


def rebuilt_contexts(prompt: list[int], tokens: list[int], block: int = 16) -> list[list[int]]:
    """The context each step is computed from: it grows to block_size, then restarts from the last half."""
    context, contexts = prompt[-block:], []
    for token in tokens:
        contexts.append(list(context))
        context = context + [token] if len(context) < block else (context + [token])[-(block // 2):]
    return contexts


@pytest.mark.parametrize("prompt_len, new_tokens", [(10, 30), (16, 20), (25, 40)])
def test_generation_past_context_equals_recompute_over_its_window(prompt_len, new_tokens):
    """Past block_size the cache is rebuilt from the last half context, so every step's distribution is
    exactly the model's output on that window, recomputed from scratch."""
    model = tiny_gpt(2)
    prompt = [(7 * i + 3) % 64 for i in range(prompt_len)]
    steps = list(generate_tokens(model, prompt, new_tokens, temperature=0.0))
    tokens = [int(step.token[0]) for step in steps]
    for step, context in zip(steps, rebuilt_contexts(prompt, tokens)):
        with torch.no_grad():
            expected = model(torch.tensor([context]))[0, -1].softmax(-1)
        torch.testing.assert_close(step.raw_probs[0], expected, atol=1e-5, rtol=1e-4, msg=f"step {step.index}")
    assert len(set(tokens)) > 1


def test_greedy_batch_rows_are_identical():
    model = tiny_gpt(3)
    out = sample_tokens(model, [5, 6, 7], 20, temperature=0.0, batch_size=3)
    assert out.shape == (3, 20)
    assert torch.equal(out[0], out[1]) and torch.equal(out[1], out[2])
    assert out[0, :13].tolist() == greedy_full_recompute(model, [5, 6, 7], 13)  # within the context


def test_generate_tokens_yields_one_record_per_token():
    model = tiny_gpt(4)
    steps = list(generate_tokens(model, [1, 2, 3], 6, temperature=0.9, top_k=10,
                                 generator=torch.Generator().manual_seed(0), batch_size=2))
    assert [s.index for s in steps] == list(range(6))
    for step in steps:
        assert step.token.shape == (2,) and step.probs.shape == (2, 64) and step.raw_probs.shape == (2, 64)
        assert (step.candidates <= 10).all()
        assert step.kept.gather(-1, step.token[:, None]).all()
    # the first step's raw distribution is the model's next-token distribution after the prompt
    torch.testing.assert_close(steps[0].raw_probs[0], next_token_logits(model, [1, 2, 3]).softmax(-1),
                               atol=1e-5, rtol=1e-4)


def test_empty_prompt_raises():
    model = tiny_gpt(5)
    with pytest.raises(ValueError):
        sample_tokens(model, [], 5)
    with pytest.raises(ValueError):
        next(generate_tokens(model, [], 5))


def test_next_token_logits_truncates_to_the_context():
    model = tiny_gpt(6)
    ids = list(range(40))
    with torch.no_grad():
        expected = model(torch.tensor([ids[-16:]]))[0, -1]
    torch.testing.assert_close(next_token_logits(model, ids), expected)


# --- surprisals ------------------------------------------------------------------------------

def log2_prob_of_next(model: GPT, context: list[int], target: int) -> float:
    with torch.no_grad():
        logits = model(torch.tensor([context]))[0, -1].double()
    return -logits.log_softmax(-1)[target].item() / math.log(2)


def test_token_surprisals_short_text_equals_brute_force():
    model = tiny_gpt(7)
    start, ids = 0, [9, 4, 33, 4, 60, 1, 17, 17, 2, 50]
    got = token_surprisals(model, ids, start)
    stream = [start] + ids
    expected = [log2_prob_of_next(model, stream[:j + 1], stream[j + 1]) for j in range(len(ids))]
    assert got.shape == (len(ids),)
    torch.testing.assert_close(got.double(), torch.tensor(expected, dtype=torch.float64), atol=1e-4, rtol=1e-5)


@pytest.mark.parametrize("scored_logits", [1, sampling.SCORED_LOGITS], ids=["a-window-a-pass", "windows-batched"])
def test_token_surprisals_long_text_uses_windows_with_half_a_context_of_history(scored_logits, monkeypatch):
    monkeypatch.setattr(sampling, "SCORED_LOGITS", scored_logits)
    block = 16
    model = tiny_gpt(8, block_size=block)
    generator = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 64, (50,), generator=generator).tolist()
    start = 0
    stream = [start] + ids
    got = token_surprisals(model, ids, start).double()
    assert got.shape == (50,)
    assert torch.isfinite(got).all() and (got > 0).all()

    # while the whole history fits, every token is scored with its full history
    full = [log2_prob_of_next(model, stream[:j + 1], stream[j + 1]) for j in range(block)]
    torch.testing.assert_close(got[:block], torch.tensor(full, dtype=torch.float64), atol=1e-4, rtol=1e-5)

    # later tokens: the value equals brute force over some window of L <= block inputs ending right
    # before the token, with at least block // 2 tokens of history before it (L >= block // 2 + 1)
    sliding = []
    for j in range(block, len(ids)):
        candidates = {L: log2_prob_of_next(model, stream[j + 1 - L:j + 1], stream[j + 1])
                      for L in range(block // 2 + 1, block + 1)}
        assert len({round(v, 3) for v in candidates.values()}) > 1  # context length matters to this model
        assert any(abs(got[j].item() - v) < 1e-4 for v in candidates.values()), (j, got[j].item(), candidates)
        sliding.append(candidates[block])
    assert got[block:].mean().item() == pytest.approx(sum(sliding) / len(sliding), rel=0.05)


def test_token_surprisals_of_a_certain_token_is_near_zero():
    """A model that always predicts one token: surprisal ~0 for it, large for others."""
    model = tiny_gpt(9)
    with torch.no_grad():
        model.ln_f.weight.zero_()
        model.ln_f.bias.zero_()
        model.ln_f.bias[0] = 1.0  # final hidden state is e_0 for every position
        model.wte.weight.zero_()
        model.wte.weight[5, 0] = 50.0  # token 5's logit is 50, all others 0 (tied head)
    got = token_surprisals(model, [5, 5, 7, 5] * 10, 1)
    assert (got[[i for i in range(40) if i % 4 != 2]] < 1e-3).all()
    assert (got[2::4] > 50 / math.log(2) - 1).all()


def test_per_row_settings_adjust_each_row_as_it_would_be_alone():
    """An engine's tick adjusts many requests' rows at once, each with its own settings (greedy, top-k, top-p, a
    nucleus past the first ranked tokens): every row must equal that row adjusted alone."""
    logits = random_logits(7, torch.float32, rows=8)
    settings = [(0.0, 0, 0.9), (0.7, 5, 1.0), (1.3, 0, 0.99), (1.0, 50, 0.5), (0.3, 0, 1.0), (1.5, 499, 0.9),
                (2.0, 0, 0.999), (1.0, 1, 0.2)]
    rows = adjust_logits(logits, *[torch.tensor(column) for column in zip(*settings)])
    for row, (temperature, top_k, top_p) in enumerate(settings):
        assert torch.equal(rows[row], adjust_logits(logits[row], temperature, top_k, top_p)), settings[row]


def test_top_p_ranks_a_few_tokens_only_when_they_reach_p(monkeypatch):
    """Ranking the most likely tokens first is a shortcut: with room for 4 tokens or for all, the same tokens stay."""
    logits = random_logits(8, torch.float32, rows=16)
    for top_p in (0.1, 0.5, 0.9, 0.99):
        full = apply_top_p(logits, top_p)
        monkeypatch.setattr("genmodels.text.sampling.NUCLEUS_GUESS", 4)
        assert torch.equal(apply_top_p(logits, top_p), full)
        monkeypatch.undo()


def test_a_draw_is_torch_multinomials_draw():
    """TokenStep.draw writes out multinomial's one-sample rule, so a seed draws what it drew before."""
    for seed in range(20):
        step = sampling_step(random_logits(seed, torch.float32), 0.9, 0, 0.95, torch.Generator().manual_seed(seed))
        expected = torch.multinomial(step.probs, 1, generator=torch.Generator().manual_seed(seed)).squeeze(-1)
        assert torch.equal(step.token, expected)
