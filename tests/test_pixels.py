"""The pixel-level autoregressive model: quantization, sequence layout, KV cache against full recomputation,
sampling through the text family's sampler, the tiny training run and the loader."""
import pytest
import torch

from genmodels.pixels.model import PIXELS, PixelConfig, PixelTransformer, class_token, dequantize, quantize, sequences
from genmodels.pixels.sample import load_pixel_model, pixel_stream, sample_pixels
from genmodels.pixels.train import PRESETS, train
from genmodels.text import sampling
from genmodels.text.gpt import KVCache
from tests.conftest import cpu_one_thread

SMALL = PixelConfig(levels=8, n_layer=2, n_head=2, n_embd=32)


def test_quantize_maps_the_byte_range_to_levels_and_back_to_level_centres():
    images = torch.tensor([[0, 31, 32, 255]], dtype=torch.uint8).repeat(196, 1).view(1, 28, 28)
    tokens = quantize(images, 8)
    assert tokens.shape == (1, PIXELS) and tokens[0, :4].tolist() == [0, 0, 1, 7]
    assert dequantize(tokens, 8)[0, :4].tolist() == [16, 16, 48, 240]
    assert (quantize(dequantize(tokens, 8).view(1, 28, 28), 8) == tokens).all()


def test_sequences_start_with_the_class_token_and_shift_by_one():
    tokens = torch.randint(0, 8, (3, PIXELS))
    x, y = sequences(tokens, torch.tensor([0, 9, -1]), SMALL)
    assert x[:, 0].tolist() == [class_token(SMALL, 0), class_token(SMALL, 9), class_token(SMALL, None)]
    assert torch.equal(x[:, 1:], tokens[:, :-1]) and torch.equal(y, tokens)
    assert class_token(SMALL, None) == SMALL.levels + 10 == SMALL.gpt_config().vocab_size - 1


def test_kv_cache_gives_the_same_logits_as_full_recomputation():
    torch.manual_seed(0)
    model = PixelTransformer(SMALL).eval()
    x, _ = sequences(torch.randint(0, 8, (2, PIXELS)), torch.tensor([3, -1]), SMALL)
    steps = 60
    with torch.no_grad():
        full = model(x[:, :steps])  # (2, steps, levels)
        cache = KVCache(model.config, 2, "cpu")
        cached = torch.cat([model(x[:, i:i + 1], cache) for i in range(steps)], dim=1)
    assert full.shape == (2, steps, SMALL.levels)
    torch.testing.assert_close(cached, full, atol=1e-5, rtol=1e-4)


def test_sampling_uses_the_text_sampler_and_is_reproducible():
    torch.manual_seed(0)
    model = PixelTransformer(SMALL).eval()
    first = next(iter(pixel_stream(model, 2, count=3, temperature=1.0, top_k=2, seed=5)))
    assert isinstance(first, sampling.TokenStep) and first.raw_probs.shape == (3, SMALL.levels)
    assert (first.candidates <= 2).all()  # top-k from genmodels.text.sampling applies per pixel
    a = sample_pixels(model, 2, count=2, seed=5, temperature=0.9, top_p=0.9)
    b = sample_pixels(model, 2, count=2, seed=5, temperature=0.9, top_p=0.9)
    assert a.shape == (2, 28, 28) and a.dtype == torch.uint8 and torch.equal(a, b)
    greedy = sample_pixels(model, 2, count=2, seed=1, temperature=0)
    assert torch.equal(greedy[0], greedy[1])  # temperature 0 is the argmax: no randomness left
    assert not torch.equal(sample_pixels(model, 2, count=1, seed=6)[0], sample_pixels(model, 2, count=1, seed=7)[0])


def test_tiny_preset_trains_logs_bits_per_pixel_and_loads(tmp_path):
    generator = torch.Generator().manual_seed(0)
    images = (torch.rand(64, 28, 28, generator=generator) * 255).to(torch.uint8)
    labels = torch.arange(64) % 10
    with cpu_one_thread():
        log = train("tiny", tmp_path, images=(images, labels))
    tiny = PRESETS["tiny"]
    assert log["train"]["step"] == list(range(0, tiny.steps, 10)) and log["val"]["step"] == [0, 3, 6]
    assert log["best_val_loss"] == min(log["val"]["loss"]) and 0 < log["best_val_loss"] < 3  # 4 levels: <= 2 bits
    loaded = load_pixel_model(tmp_path)
    assert loaded.model.config == tiny.model and loaded.record["meta"]["step"] == log["best_step"]
    assert load_pixel_model(tmp_path) is loaded
    assert sample_pixels(loaded.model, None, count=1, seed=0).shape == (1, 28, 28)


def test_missing_weights_name_the_command_that_makes_them(tmp_path):
    with pytest.raises(Exception, match="genmodels.pixels.train"):
        load_pixel_model(tmp_path / "nowhere")
