"""The batching engines: a request gets what it gets alone, whoever shares its ticks; a bad, stopped or stranded
request fails alone and clearly; a crashed tick fails its jobs and the engine serves on."""
import threading
import time
import traceback

import pytest
import torch

from genmodels import serving
from genmodels.diffusion.schedule import cosine_schedule
from genmodels.diffusion.unet import UNet, UNetConfig
from genmodels.errors import RequestError
from genmodels.pixels.model import PixelConfig, PixelTransformer, class_token
from genmodels.runtime import make_generator
from genmodels.serving import denoising
from genmodels.serving import engine as engine_module
from genmodels.serving import tokens as tokens_module
from genmodels.serving.engine import Engine, Job
from genmodels.serving.tokens import TRACED_ENV, TokenEngine
from genmodels.text.gpt import GPT, GPTConfig, KVCache
from genmodels.text.sampling import Guidance, generate_tokens

SETTINGS = [(0.8, 0, 0.95), (0.0, 0, 1.0), (1.3, 5, 0.9), (1.0, 0, 0.5), (0.6, 2, 1.0)]  # temperature, top-k, top-p


@pytest.fixture(scope="module")
def tiny_gpt():
    torch.manual_seed(0)
    return GPT(GPTConfig(vocab_size=50, block_size=24, n_layer=2, n_head=2, n_embd=32)).eval()


def tokens_of(steps) -> torch.Tensor:
    """The drawn tokens (B, steps) of a TokenStep stream."""
    return torch.stack([step.token for step in steps], 1)


def in_threads(fns: list, stagger: float = 0.0) -> list:
    """Call each fn in its own thread (the i-th after i * stagger seconds); results or exceptions, in order."""
    results = [None] * len(fns)

    def call(i):
        time.sleep(i * stagger)
        try:
            results[i] = fns[i]()
        except Exception as error:  # noqa: BLE001 - the test inspects it
            results[i] = error

    threads = [threading.Thread(target=call, args=(i,)) for i in range(len(fns))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def rows_freed(engine, seconds: float = 5) -> bool:
    """Whether the engine's rows are all free within `seconds` (a tick in progress frees them when it ends)."""
    deadline = time.monotonic() + seconds
    while engine.rows_in_use() and time.monotonic() < deadline:
        time.sleep(0.01)
    return engine.rows_in_use() == 0


def test_batching_is_on_unless_turned_off(monkeypatch):
    monkeypatch.delenv(serving.BATCHING_ENV, raising=False)
    assert serving.batching_enabled()
    monkeypatch.setenv(serving.BATCHING_ENV, "0")
    assert not serving.batching_enabled()


@pytest.mark.parametrize("round_, traced", [(0, "1"), (1, "1"), (2, "1"), (0, "0"), (1, "0")])
def test_token_engine_draws_the_tokens_of_each_request_alone(tiny_gpt, round_, traced, monkeypatch):
    """Prompts of 1 to 40 tokens (past the 24-token context, so caches are rebuilt mid-generation), mixed settings,
    1-3 rows each, joining at different times: every request's tokens equal generate_tokens' alone, with the traced
    CPU step and with the eager one (GENMODELS_TRACED=0)."""
    monkeypatch.setenv(TRACED_ENV, traced)
    engine = TokenEngine(tiny_gpt, tiny_gpt.config, capacity=16, name="test")
    assert engine.trace_cpu == (traced == "1")
    cases = []
    for i in range(8):
        seed = 100 * round_ + i
        prompt = torch.randint(0, 50, (1 + (seed * 7) % 40,), generator=make_generator(seed)).tolist()
        cases.append((prompt, 10 + seed % 25, *SETTINGS[seed % len(SETTINGS)], seed, 1 + seed % 3))
    alone = [tokens_of(generate_tokens(tiny_gpt, p, n, t, k, q, make_generator(s), b)) for p, n, t, k, q, s, b in cases]
    batched = in_threads([lambda c=c: tokens_of(engine.generate(c[0], c[1], *c[2:5], make_generator(c[5]), c[6]))
                          for c in cases], stagger=0.003)
    for i, (a, b) in enumerate(zip(alone, batched)):
        assert not isinstance(b, Exception), "".join(traceback.format_exception(b))[-3000:]
        assert torch.equal(a, b), f"case {i}: {cases[i]}"
    assert max(engine.rows_per_tick) > 3  # requests really shared ticks
    assert rows_freed(engine) and engine.owners == []


@pytest.mark.parametrize("pixels", [False, True])
def test_one_traced_decode_step_fits_every_row_count_and_cache_length(pixels):
    """Recorded at one row and 24 slots (the engine records at its first tick, whatever it holds), the traced step
    writes the cache and gives the logits of the eager decode_at at other sizes."""
    torch.manual_seed(2)
    model = (PixelTransformer(PixelConfig(levels=4, n_layer=2, n_head=2, n_embd=16, block_size=24)) if pixels
             else GPT(GPTConfig(vocab_size=50, block_size=24, n_layer=2, n_head=2, n_embd=32))).eval()
    engine = TokenEngine(model, model.gpt.config if pixels else model.config, capacity=8, name="traced-test")
    engine.pool.keys.normal_(), engine.pool.values.normal_()
    if pixels:
        engine.pool.condition = torch.randn(8, 1, 16)
    with torch.inference_mode():
        for rows, slots in [(1, [23]), (5, [0, 7, 3, 19, 11]), (8, [2] * 8), (3, [1, 0, 5])]:
            tokens = torch.randint(0, 4, (rows, 1))
            slots = torch.tensor(slots)
            eager = engine.pool.head(rows, int(slots.max()) + 1)
            keys, values = eager.keys.clone(), eager.values.clone()
            expected = model.decode_at(tokens, slots, KVCache.over(keys, values, eager.condition))[:, 0]
            assert torch.equal(engine.traced_step(tokens, slots), expected)
            assert torch.equal(eager.keys, keys) and torch.equal(eager.values, values)


@pytest.mark.parametrize("rows", [8, 11])
def test_a_shared_traced_step_split_across_the_cores_gives_the_whole_steps_logits_and_cache(rows, monkeypatch):
    """A shared tick of many rows runs in one part per core on the engine's helper threads, each part attending as
    far as its own furthest row: the logits and cache writes of one pass over every row, to float rounding."""
    monkeypatch.setattr(engine_module, "CORES", 2)  # split even on a one-core machine
    torch.manual_seed(3)
    model = PixelTransformer(PixelConfig(levels=4, n_layer=2, n_head=2, n_embd=16, block_size=24)).eval()
    engine = TokenEngine(model, model.gpt.config, capacity=12, name="split-test")
    engine.pool.keys.normal_(), engine.pool.values.normal_()
    engine.pool.condition = torch.randn(12, 1, 16)
    tokens, slots = torch.randint(0, 4, (rows, 1)), torch.randint(0, 24, (rows,)).sort(descending=True).values
    start = (engine.pool.keys.clone(), engine.pool.values.clone())
    whole = engine.traced_step(tokens, slots)  # also records the trace
    written = (engine.pool.keys.clone(), engine.pool.values.clone())
    engine.pool.keys.copy_(start[0]), engine.pool.values.copy_(start[1])
    split = engine.traced_step(tokens, slots, shared=True)
    torch.testing.assert_close(split, whole, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(engine.pool.keys, written[0], rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(engine.pool.values, written[1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("reach", [[700, 650, 600, 120, 90, 40, 10, 5], [300] * 8, [5, 783, 2, 9, 400, 401],
                                   [783, 0], [50] * 3 + [780] + [50] * 12])
def test_a_tick_is_cut_where_the_parts_read_about_as_much(reach, monkeypatch):
    """Two cores: the runs cover every row in order, and the larger run's reading (rows x furthest reach) is the
    least that any cut in two gives."""
    monkeypatch.setattr(engine_module, "CORES", 2)
    runs = engine_module.runs_reading_alike(reach)
    assert len(runs) <= 2 and runs[0].start == 0 and runs[-1].stop == len(reach)
    assert all(a.stop == b.start for a, b in zip(runs, runs[1:]))

    def reads(rows):
        return len(reach[rows]) * (max(reach[rows]) + 1)
    best = min(max(reads(slice(0, k)), reads(slice(k, None))) for k in range(1, len(reach)))
    assert max(reads(run) for run in runs) == min(best, reads(slice(None)))


def test_token_engine_keeps_each_rows_class_condition():
    torch.manual_seed(1)
    model = PixelTransformer(PixelConfig(levels=4, n_layer=1, n_head=2, n_embd=16, block_size=30)).eval()
    engine = TokenEngine(model, model.gpt.config, capacity=8, name="pixels-test")
    labels = [3, None, 7, 3]
    alone = [tokens_of(generate_tokens(model, [class_token(model.config, c)], 29, 1.0, 0, 1.0, make_generator(i), 2))
             for i, c in enumerate(labels)]
    batched = in_threads([lambda i=i, c=c: tokens_of(engine.generate([class_token(model.config, c)], 29, 1.0, 0, 1.0,
                                                                     make_generator(i), 2))
                          for i, c in enumerate(labels)], stagger=0.002)
    assert all(torch.equal(a, b) for a, b in zip(alone, batched))


@pytest.mark.parametrize("traced", ["1", "0"])
def test_guided_requests_draw_what_they_draw_alone_beside_plain_ones(traced, monkeypatch):
    """Classifier-free guidance: a guided request's rows and their "any class" twins share ticks with plain requests
    of different sizes, and every request's tokens equal generate_tokens'."""
    monkeypatch.setenv(TRACED_ENV, traced)
    torch.manual_seed(1)
    model = PixelTransformer(PixelConfig(levels=4, n_layer=1, n_head=2, n_embd=16, block_size=30)).eval()
    engine = TokenEngine(model, model.gpt.config, capacity=16, name="guided-test")
    cases = [(3, 2.0, 2), (7, None, 1), (3, 0.0, 3), (1, 4.5, 1), (9, None, 2)]  # class, guidance, rows
    twin = [class_token(model.config, None)]

    def mix(scale):
        return None if scale is None else Guidance(twin, scale)

    alone = [tokens_of(generate_tokens(model, [class_token(model.config, c)], 29, 1.0, 0, 1.0, make_generator(i), b,
                                       mix(g))) for i, (c, g, b) in enumerate(cases)]
    batched = in_threads([lambda i=i, c=c, g=g, b=b: tokens_of(engine.generate(
        [class_token(model.config, c)], 29, 1.0, 0, 1.0, make_generator(i), b, mix(g)))
        for i, (c, g, b) in enumerate(cases)], stagger=0.002)
    for i, (a, b) in enumerate(zip(alone, batched)):
        assert not isinstance(b, Exception), "".join(traceback.format_exception(b))[-3000:]
        assert a.shape == (cases[i][2], 29) and torch.equal(a, b), f"case {i}: {cases[i]}"
    assert max(engine.rows_per_tick) > 6 and rows_freed(engine)  # twins took rows of their own


def test_guidance_draws_from_the_conditional_logits_pushed_away_from_the_unconditional():
    """Temperature 0 at scale s picks argmax(u + s (c - u)) of the two prompts' logits; scale 1 equals no guidance,
    scale 0 the unconditional prompt alone."""
    torch.manual_seed(3)
    model = PixelTransformer(PixelConfig(levels=4, n_layer=1, n_head=2, n_embd=16, block_size=30)).eval()
    start, twin = [class_token(model.config, 2)], [class_token(model.config, None)]
    with torch.inference_mode():
        c, u = model(torch.tensor([start]))[0, -1], model(torch.tensor([twin]))[0, -1]
    for scale in (0.0, 1.0, 3.0):
        first = next(generate_tokens(model, start, 5, temperature=0.0, guidance=Guidance(twin, scale)))
        assert torch.allclose(first.logits[0], u + scale * (c - u), atol=1e-5)
    plain = tokens_of(generate_tokens(model, start, 20, temperature=0.0))
    assert torch.equal(tokens_of(generate_tokens(model, start, 20, temperature=0.0, guidance=Guidance(twin, 1.0))),
                       plain)
    forgetting = tokens_of(generate_tokens(model, start, 20, temperature=0.0, guidance=Guidance(twin, 0.0)))
    assert torch.equal(forgetting, tokens_of(generate_tokens(model, twin, 20, temperature=0.0)))
    with pytest.raises(ValueError, match="same length"):
        next(generate_tokens(model, start, 5, guidance=Guidance([1, 2], 2.0)))


def test_a_stopped_request_frees_its_rows_within_a_tick(tiny_gpt):
    engine = TokenEngine(tiny_gpt, tiny_gpt.config, capacity=8, name="test")
    stream = engine.generate([1, 2, 3], 10_000, 1.0, 0, 1.0, make_generator(0), 3)
    next(stream), next(stream)
    assert engine.rows_in_use() == 3
    stream.close()  # what Gradio does when the browser leaves or Stop is pressed
    assert rows_freed(engine) and engine.ticks < 100


def test_a_failing_request_fails_alone(tiny_gpt):
    engine = TokenEngine(tiny_gpt, tiny_gpt.config, capacity=8, name="test")
    good = ([5, 6, 7], 30, 0.8, 0, 0.95)
    bad = ([5, 6, 7], 30, 0.8, -3, 0.95)  # top-k below 0 makes its sampling step raise
    results = in_threads([lambda: tokens_of(engine.generate(*good, make_generator(1))),
                          lambda: tokens_of(engine.generate(*bad, make_generator(2))),
                          lambda: tokens_of(engine.generate(*good, make_generator(1)))])
    assert isinstance(results[1], ValueError) and "top_k" in str(results[1])
    alone = tokens_of(generate_tokens(tiny_gpt, *good, make_generator(1)))
    assert torch.equal(results[0], alone) and torch.equal(results[2], alone)


@pytest.mark.parametrize("noise_elsewhere", [0, 10**9])
def test_jobs_that_join_together_fail_alone_when_their_prompt_or_draw_fails(tiny_gpt, noise_elsewhere, monkeypatch):
    """Four jobs join at one tick, so their prompts are read on both cores and their noise drawn at once (on the
    engine's helper thread, or on the ticking one): one whose prompt holds a token outside the vocabulary fails as
    it starts, one whose generator cannot draw fails at its first token, and the two others draw what they draw
    alone."""
    monkeypatch.setattr(engine_module, "CORES", 2)
    monkeypatch.setattr(tokens_module, "NOISE_ELSEWHERE", noise_elsewhere)
    engine = TokenEngine(tiny_gpt, tiny_gpt.config, capacity=8, name="test")
    good = ([5, 6, 7], 12, 0.8, 0, 0.95)
    streams = [engine.generate(*good, make_generator(1)), engine.generate([5, 999], 12, 0.8, 0, 0.95),
               engine.generate(*good, "not a generator"), engine.generate([9], 12, 1.3, 5, 0.9, make_generator(2))]
    results = in_threads([lambda s=stream: tokens_of(s) for stream in streams])  # all four wait: they join together
    assert isinstance(results[1], IndexError) and isinstance(results[2], TypeError)
    assert torch.equal(results[0], tokens_of(generate_tokens(tiny_gpt, *good, make_generator(1))))
    assert torch.equal(results[3], tokens_of(generate_tokens(tiny_gpt, [9], 12, 1.3, 5, 0.9, make_generator(2))))
    assert max(engine.rows_per_tick) == 3 and rows_freed(engine)


class Counting(Engine):
    """A toy engine: each job counts to `state` (emitting 1, 2, ...); a job whose state is 'crash' breaks the loop."""
    name = "counting"

    def forward(self, jobs):
        return None

    def leave_finished(self):
        if any(job.state == "crash" for job in self.active):
            raise RuntimeError("a bug in the loop")  # outside forward and advance, whose errors fail one job
        super().leave_finished()

    def advance(self, job, outputs):
        job.count = getattr(job, "count", 0) + 1
        job.emit(job.count)
        if job.count == job.state:
            job.finish()


def test_a_crashed_tick_fails_its_jobs_clearly_and_the_engine_serves_on():
    engine = Counting(capacity=4)
    assert list(engine.submit(Job(1, 3)).stream()) == [1, 2, 3]
    with pytest.raises(RequestError, match="engine stopped"):
        list(engine.submit(Job(1, "crash")).stream())
    assert list(engine.submit(Job(1, 2)).stream()) == [1, 2]
    assert engine.crashes == 1 and engine.rows_in_use() == 0


def test_no_caller_waits_forever():
    engine = Counting(capacity=1)
    hog = engine.submit(Job(1, 10**9))  # holds the only row for a long time
    try:
        with pytest.raises(RequestError, match="too busy"):
            list(engine.submit(Job(1, 2)).stream(timeout=0.3))
    finally:
        hog.cancel()
    assert engine.rows_in_use() == 0


def test_a_request_larger_than_the_engine_is_refused_with_a_message():
    with pytest.raises(RequestError, match="at most 4"):
        Counting(capacity=4).submit(Job(5, 1))


def test_a_big_request_shares_ticks_with_small_ones():
    """A 1,000-step job does not hold back 3-step jobs that join while it runs: they finish within a few ticks."""
    engine = Counting(capacity=8)
    big = engine.submit(Job(4, 1000)).stream()
    next(big)
    small = [engine.submit(Job(1, 3)) for _ in range(4)]
    assert all(list(job.stream()) == [1, 2, 3] for job in small)
    assert len(list(big)) == 999


def test_a_large_cpu_tick_split_across_the_cores_equals_one_pass(monkeypatch):
    """The U-Net's tick over many images runs in one part per core; joined, the parts are the one pass's output."""
    torch.manual_seed(0)
    unet = UNet(UNetConfig(channels=(8, 16, 16), cond_dim=8, groups=4)).eval()
    monkeypatch.setattr(engine_module, "CORES", 2)
    engine = denoising.DenoisingEngine(unet, cosine_schedule(), capacity=16)
    x, t, text = torch.randn(11, 1, 28, 28), torch.randint(0, 1000, (11,)), torch.randn(11, 8)
    with torch.inference_mode():
        split, whole = engine.split_pass(x, t, text), unet(x, t, text)
    torch.testing.assert_close(split, whole, rtol=1e-4, atol=1e-5)
