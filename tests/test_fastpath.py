"""The fast path (static buffers, CUDA graphs on a GPU) gives what the plain path gives.

On a CPU, `FAST_PATH.forced_static()` runs everything the GPU runs except the graph recording itself: the
fixed-shape decode step, caches lent from the pool and reused, inputs copied into static buffers.
The tests marked `cuda` record real graphs and run only where a GPU is present.
"""
import os
import threading
import warnings

import pytest
import torch

from genmodels.diffusion.pretrained import GRAPHS, make_denoiser
from genmodels.diffusion.unet import UNet, UNetConfig
from genmodels.fastpath import FAST_PATH, GRAPHS_ENV, FastPath, GraphPool, StaticCall
from genmodels.pixels.model import PixelConfig, PixelTransformer
from genmodels.runtime import make_generator
from genmodels.text import decoding
from genmodels.text.gpt import KVCache
from genmodels.text.sampling import generate_tokens, sample_tokens
from tests.test_gpt import BLOCK, random_ids, tiny_gpt

pytestmark = pytest.mark.usefixtures("one_thread")
cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="records CUDA graphs: needs a GPU")


@pytest.fixture(autouse=True)
def fresh_fast_path():
    """Each test starts with empty pools and the fast path not marked broken."""
    for pool in (decoding.POOL, GRAPHS):
        pool.free.clear()
        pool.count = 0
    FAST_PATH.broken = False
    yield
    FAST_PATH.broken = False


def scrambled_pixel_model(seed: int = 0) -> PixelTransformer:
    torch.manual_seed(seed)
    model = PixelTransformer(PixelConfig(levels=8, n_layer=2, n_head=2, n_embd=32, block_size=24))
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.3)
    return model.eval()


@torch.no_grad()
@pytest.mark.parametrize("prefill", [1, 5, BLOCK - 1])
def test_decode_at_equals_the_plain_cached_step(prefill):
    model = tiny_gpt()
    ids = random_ids(3, BLOCK, batch=3)
    plain, static = KVCache(model.config, 3, "cpu"), KVCache(model.config, 3, "cpu")
    model(ids[:, :prefill], plain)
    model(ids[:, :prefill], static)
    for j in range(prefill, BLOCK):
        expected = model(ids[:, j:j + 1], plain)
        got = model.decode_at(ids[:, j:j + 1], torch.tensor([j]), static)
        static.position += 1
        torch.testing.assert_close(got, expected, rtol=0, atol=1e-5)


@pytest.mark.parametrize("settings", [dict(temperature=0.0), dict(temperature=1.0, top_k=20, top_p=0.9)])
def test_generation_through_the_static_path_gives_the_same_tokens(settings):
    model = tiny_gpt(seed=1)
    ids = random_ids(4, 6)[0].tolist()

    def run():  # 40 tokens in a 16-token context: the cache fills and is rebuilt twice
        return sample_tokens(model, ids, 40, generator=make_generator(7), batch_size=2, **settings)

    plain = run()
    with FAST_PATH.forced_static():
        first, again = run(), run()  # the second reuses the first's cache and recorded step
    assert torch.equal(first, plain) and torch.equal(again, plain)
    assert decoding.POOL.count == 1 and [key for key, _ in decoding.POOL.free] == [(id(model), 2, "cpu")]


def test_pixel_model_keeps_each_generations_class_in_the_lent_cache():
    model = scrambled_pixel_model()

    def run(label_token):
        return sample_tokens(model, [label_token], 20, generator=make_generator(3), temperature=1.0)

    plain = [run(8 + c) for c in (2, 7)]
    with FAST_PATH.forced_static():
        static = [run(8 + c) for c in (2, 7)]  # same cache, the second class must replace the first
    assert all(torch.equal(a, b) for a, b in zip(static, plain))
    assert not torch.equal(plain[0], plain[1])


def test_interleaved_generations_each_get_their_own_cache():
    model = tiny_gpt(seed=2)
    prompts = [random_ids(s, 5)[0].tolist() for s in (10, 11)]
    alone = [sample_tokens(model, p, 12, temperature=0.0) for p in prompts]
    with FAST_PATH.forced_static():
        streams = [generate_tokens(model, p, 12, temperature=0.0) for p in prompts]
        together = [[], []]
        for steps in zip(*streams):  # step both generations in turn
            for out, step in zip(together, steps):
                out.append(step.token)
    assert decoding.POOL.count == 2
    for out, expected in zip(together, alone):
        assert torch.equal(torch.stack(out, dim=1), expected)


def test_a_full_pool_falls_back_to_the_plain_path_and_reuses_or_evicts_what_is_given_back():
    pool = GraphPool(limit=2)
    first, second = pool.lend(("a",), lambda: "a1"), pool.lend(("b",), lambda: "b1")
    assert pool.lend(("a",), lambda: "a2") is None  # both lent: the caller runs the plain path
    pool.give_back(("a",), first)
    pool.give_back(("b",), second)
    assert pool.lend(("b",), lambda: "b2") == "b1"  # reused
    assert pool.lend(("c",), lambda: "c1") == "c1" and pool.count == 2  # "a1", unused longest, made room
    assert pool.free == []


def test_a_failed_capture_turns_the_fast_path_off_with_a_warning():
    def fail():
        raise RuntimeError("capture refused")

    with FAST_PATH.forced_static():
        with pytest.warns(RuntimeWarning, match="capture refused"):
            assert GraphPool().lend(("k",), fail) is None
        assert not FAST_PATH.enabled(torch.device("cpu"))
    model = tiny_gpt(seed=3)
    with FAST_PATH.forced_static(), warnings.catch_warnings():
        warnings.simplefilter("error")
        tokens = sample_tokens(model, [1, 2, 3], 5, temperature=0.0)  # plain path, no second warning
    assert tokens.shape == (1, 5)


def test_the_environment_switch_plain_blocks_and_zerogpu_turn_the_fast_path_off(monkeypatch, tmp_path):
    cpu = torch.device("cpu")
    with FAST_PATH.forced_static():
        assert FAST_PATH.enabled(cpu)
        with FAST_PATH.plain():
            assert not FAST_PATH.enabled(cpu) and GRAPHS_ENV not in os.environ
        assert FAST_PATH.enabled(cpu)
    monkeypatch.setenv(GRAPHS_ENV, "0")
    assert not FastPath(forced=True).enabled(cpu)  # a process's FastPath reads the variable when it is made
    monkeypatch.delenv(GRAPHS_ENV)
    (tmp_path / "spaces.py").write_text("")  # what a ZeroGPU Space has
    monkeypatch.syspath_prepend(tmp_path)
    assert not FastPath(forced=True).enabled(cpu)


def tiny_unet() -> UNet:
    torch.manual_seed(5)
    model = UNet(UNetConfig(channels=(8, 16, 16), n_head=2, cond_dim=16, groups=4))
    with torch.no_grad():
        for param in model.parameters():
            param.add_(0.1 * torch.randn_like(param))
    return model.eval()


@pytest.mark.parametrize("scale", [0.0, 1.0, 3.0, 7.5])
def test_static_denoiser_equals_the_plain_one(scale):
    model = tiny_unet()
    cond, uncond = torch.randn(3, 16), torch.randn(1, 16)
    x, t = torch.randn(3, 1, 28, 28), torch.tensor([999, 500, 3])
    expected = make_denoiser(model, cond, uncond, scale)(x, t)
    with FAST_PATH.forced_static():
        denoise = make_denoiser(model, cond, uncond, scale)
        first, second = denoise(x, t), denoise(x * 0.5, t)
        other = make_denoiser(model, cond.flip(0), uncond, scale)(x, t)  # same recorded pass, new conditions
    torch.testing.assert_close(first, expected, rtol=0, atol=1e-6)
    torch.testing.assert_close(second, make_denoiser(model, cond, uncond, scale)(x * 0.5, t), rtol=0, atol=1e-6)
    torch.testing.assert_close(other, make_denoiser(model, cond.flip(0), uncond, scale)(x, t), rtol=0, atol=1e-6)
    assert GRAPHS.count == 1


def test_static_denoiser_is_safe_from_several_threads():
    model = tiny_unet()
    cond, uncond = torch.randn(2, 16), torch.randn(1, 16)
    inputs = [(torch.randn(2, 1, 28, 28, generator=make_generator(s)), torch.tensor([900, 100])) for s in range(6)]
    expected = [make_denoiser(model, cond, uncond, 3.0)(x, t) for x, t in inputs]
    got = [None] * len(inputs)
    with FAST_PATH.forced_static():
        denoise = make_denoiser(model, cond, uncond, 3.0)

        def work(i):
            got[i] = denoise(*inputs[i])

        threads = [threading.Thread(target=work, args=(i,)) for i in range(len(inputs))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


@cuda
def test_recorded_graph_replays_with_new_inputs():
    weight = torch.randn(8, 8, device="cuda")
    call = StaticCall(lambda x: torch.tanh(x @ weight) * 2, torch.randn(4, 8, device="cuda"))
    assert call.graph is not None
    for seed in range(3):
        x = torch.randn(4, 8, device="cuda", generator=make_generator(seed, "cuda"))
        torch.testing.assert_close(call(x), torch.tanh(x @ weight) * 2)


@cuda
def test_graphed_generation_and_denoiser_on_the_gpu_equal_the_plain_path():
    model = tiny_gpt(seed=1).cuda()
    ids = random_ids(4, 6)[0].tolist()
    graphed = sample_tokens(model, ids, 40, temperature=0.0, batch_size=2)
    unet, cond, uncond = tiny_unet().cuda(), torch.randn(3, 16, device="cuda"), torch.randn(1, 16, device="cuda")
    x, t = torch.randn(3, 1, 28, 28, device="cuda"), torch.tensor([999, 500, 3], device="cuda")
    with FAST_PATH.plain():
        assert torch.equal(graphed, sample_tokens(model, ids, 40, temperature=0.0, batch_size=2))
        plain = make_denoiser(unet, cond, uncond, 3.0)(x, t)
    torch.testing.assert_close(make_denoiser(unet, cond, uncond, 3.0)(x, t), plain, rtol=0, atol=1e-5)
