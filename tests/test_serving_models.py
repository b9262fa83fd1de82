"""The committed models through their engines, by the families' own request functions (the page's and the API's
path): concurrent requests with mixed settings get what they get alone (GENMODELS_BATCHING=0)."""
import torch

from genmodels import serving
from genmodels.diffusion.requests import DiffusionRequest, diffuse
from genmodels.pixels.requests import PixelRequest
from genmodels.pixels.requests import sample as sample_pixels
from genmodels.text.requests import ContinuationsRequest, GenerateRequest, continuations, generate_text
from tests.test_serving import in_threads


def alone_and_together(monkeypatch, fn, requests: list) -> tuple[list, list]:
    """Each request run alone with batching off, then all at once through the engines."""
    monkeypatch.setenv(serving.BATCHING_ENV, "0")
    alone = [fn(request) for request in requests]
    monkeypatch.setenv(serving.BATCHING_ENV, "1")
    together = in_threads([lambda r=r: fn(r) for r in requests], stagger=0.01)
    return alone, together


def test_text_requests_with_mixed_prompts_and_settings(monkeypatch):
    requests = [GenerateRequest.build(prompt=p, max_new_tokens=n, temperature=t, top_k=k, top_p=q, seed=s)
                for p, n, t, k, q, s in (("ROMEO.\n", 12, 0.8, 0, 0.95, 1), ("", 20, 0.0, 0, 1.0, 2),
                                         ("To be, or not to be, " * 4, 15, 1.2, 40, 0.9, 3),
                                         ("KING.\n", 8, 1.0, 5, 0.5, 4))]
    alone, together = alone_and_together(monkeypatch, generate_text, requests)
    for a, b in zip(alone, together):
        assert [v.token_id for v in a.views] == [v.token_id for v in b.views]
        assert a.completion == b.completion


def test_continuations_are_drawn_together_and_each_matches_its_seed(monkeypatch):
    request = ContinuationsRequest.build(prompt="O gentle night,", count=4, max_new_tokens=10, seed=7)
    alone, together = alone_and_together(monkeypatch, continuations, [request])
    assert [s["text"] for s in alone[0].samples] == [s["text"] for s in together[0].samples]


def test_pixel_requests_with_mixed_classes_and_settings(monkeypatch):
    requests = [PixelRequest.build(label=c, count=n, temperature=t, top_k=k, seed=s)
                for c, n, t, k, s in (("Trouser", 2, 1.0, 0, 1), ("any class", 1, 0.7, 3, 2))]
    alone, together = alone_and_together(monkeypatch, sample_pixels, requests)
    assert all(torch.equal(a.tokens, b.tokens) for a, b in zip(alone, together))


def test_diffusion_requests_with_mixed_steps_guidance_and_samplers(monkeypatch):
    requests = [DiffusionRequest.build(prompt=p, steps=n, guidance=g, sampler=m, eta=e, seed=s, count=c)
                for p, n, g, m, e, s, c in (("a sneaker", 6, 3.0, "DDIM", 0.0, 1, 2), ("a bag", 4, 0.0, "DDPM", 0, 2, 1),
                                            ("a coat", 8, 1.0, "DDIM", 0.5, 3, 1), ("", 5, 7.0, "DDPM", 0, 4, 2))]
    alone, together = alone_and_together(monkeypatch, diffuse, requests)
    for a, b in zip(alone, together):
        assert a.trajectory.timesteps == b.trajectory.timesteps
        # one U-Net call over 12 rows and one over 2 round differently in float32 (the small matrix products take
        # other kernels), and the first steps, which divide by sqrt(abar_t) near 0, magnify it: pixels move by less
        # than a gray level (1/127.5 in [-1, 1]); a mix-up of prompts, noise or timesteps would move whole images
        difference = (a.trajectory.images - b.trajectory.images).abs()
        assert difference.mean() < 1e-3 and difference.max() < 1 / 127.5, difference.max()
        assert [v["class"] for v in a.verdicts] == [v["class"] for v in b.verdicts]
