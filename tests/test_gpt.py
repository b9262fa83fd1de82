"""GPT invariants: causal mask, KV cache = full recompute, weight tying, input checks."""
import pytest
import torch

from genmodels.text.gpt import GPT, GPTConfig, KVCache, apply_rotary, rotary_angles

pytestmark = pytest.mark.usefixtures("one_thread")
BLOCK = 16


def tiny_gpt(seed: int = 0, n_layer: int = 2, scale: float = 0.3) -> GPT:
    """A small random GPT whose weights are large enough that context visibly changes the logits."""
    torch.manual_seed(seed)
    model = GPT(GPTConfig(vocab_size=64, block_size=BLOCK, n_layer=n_layer, n_head=2, n_embd=32))
    with torch.no_grad():
        for param in model.parameters():
            if param.dim() >= 2:
                param.normal_(0.0, scale)
    return model.eval()


def random_ids(seed: int, length: int, batch: int = 1) -> torch.Tensor:
    return torch.randint(0, 64, (batch, length), generator=torch.Generator().manual_seed(seed))


@torch.no_grad()
def cached_logits(model: GPT, ids: torch.Tensor, prefill: int) -> torch.Tensor:
    """Logits (B, N, V): prefill the first `prefill` tokens, then feed the rest one at a time."""
    cache = KVCache(model.config, ids.shape[0], "cpu")
    outs = [model(ids[:, :prefill], cache)]
    for j in range(prefill, ids.shape[1]):
        outs.append(model(ids[:, j:j + 1], cache))
        assert cache.position == j + 1
    return torch.cat(outs, dim=1)


def test_causal_mask_future_tokens_do_not_change_past_logits():
    model = tiny_gpt(1)
    ids = random_ids(0, BLOCK, batch=2)
    with torch.no_grad():
        base = model(ids)
        assert base.shape == (2, BLOCK, 64)
        for j in range(BLOCK):
            changed = ids.clone()
            changed[:, j] = (changed[:, j] + 17) % 64
            out = model(changed)
            torch.testing.assert_close(out[:, :j], base[:, :j], atol=1e-6, rtol=0)
            # and the change is visible from position j on
            assert (out[:, j:] - base[:, j:]).abs().max() > 1e-3


@pytest.mark.parametrize("prefill", [1, 5, BLOCK - 1, BLOCK])
def test_kv_cache_equals_full_recompute_within_context(prefill):
    model = tiny_gpt(2)
    ids = random_ids(1, BLOCK, batch=3)
    with torch.no_grad():
        full = model(ids)
    torch.testing.assert_close(cached_logits(model, ids, prefill), full, atol=1e-5, rtol=1e-5)


def test_kv_cache_rows_are_independent():
    model = tiny_gpt(3)
    ids = random_ids(2, 12, batch=3)
    together = cached_logits(model, ids, 4)
    for row in range(3):
        torch.testing.assert_close(cached_logits(model, ids[row:row + 1], 4), together[row:row + 1],
                                   atol=1e-5, rtol=1e-5)


def test_full_cache_refuses_more_tokens():
    """The cache holds block_size tokens; decoding further is the caller's job (generate_tokens rebuilds it)."""
    model = tiny_gpt(4)
    cache = KVCache(model.config, 1, "cpu")
    with torch.no_grad():
        model(random_ids(3, BLOCK), cache)
        with pytest.raises(ValueError):
            model(random_ids(4, 1), cache)


def test_rotary_scores_depend_only_on_relative_position():
    """q(m) . k(n) after rotation equals q(m + c) . k(n + c): attention sees offsets, not absolute positions."""
    torch.manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)

    def score(m, n):
        cos_m, sin_m = rotary_angles(torch.tensor([m]), 8, 10000.0)
        cos_n, sin_n = rotary_angles(torch.tensor([n]), 8, 10000.0)
        return (apply_rotary(q, cos_m, sin_m) * apply_rotary(k, cos_n, sin_n)).sum()

    torch.testing.assert_close(score(7, 3), score(107, 103), atol=1e-4, rtol=1e-4)
    assert not torch.isclose(score(7, 3), score(7, 5), atol=1e-4)


def test_weight_tying_and_parameter_count():
    model = tiny_gpt(7)
    assert model.lm_head.weight is model.wte.weight
    unique = {id(p): p.numel() for p in model.parameters()}
    assert model.num_params() == sum(unique.values())
    untied = sum(p.numel() for _, p in model.named_parameters(remove_duplicate=False))
    assert model.num_params() == untied - 64 * 32
    # gradients from the head reach the embedding
    logits = model(random_ids(7, 4))
    logits.sum().backward()
    assert model.wte.weight.grad is not None and model.wte.weight.grad.abs().sum() > 0
    # changing the embedding changes the head
    with torch.no_grad():
        model.wte.weight[3].fill_(1.0)
    assert torch.equal(model.lm_head.weight[3], torch.ones(32))


def test_forward_rejects_more_than_block_size_tokens():
    model = tiny_gpt(8)
    with pytest.raises(ValueError):
        model(random_ids(8, BLOCK + 1))
    with pytest.raises(ValueError):
        model(random_ids(8, BLOCK + 1), KVCache(model.config, 1, "cpu"))
    assert model(random_ids(8, BLOCK)).shape == (1, BLOCK, 64)


def test_forward_rejects_several_tokens_after_the_prompt():
    model = tiny_gpt(9)
    cache = KVCache(model.config, 1, "cpu")
    with torch.no_grad():
        model(random_ids(9, 4), cache)
        with pytest.raises(ValueError):
            model(random_ids(10, 2), cache)
        assert model(random_ids(11, 1), cache).shape == (1, 1, 64)
    assert cache.position == 5


def test_dropout_only_in_training_mode():
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=BLOCK, n_layer=2, n_head=2, n_embd=32, dropout=0.5))
    ids = random_ids(12, 8)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model(ids), model(ids))
    model.train()
    with torch.no_grad():
        assert not torch.equal(model(ids), model(ids))
