"""Latent interpolation: endpoints exact, slerp stays on the sphere, lerp cuts inside it."""
import torch

from genmodels.interpolate import lerp, slerp


def test_endpoints_are_exact():
    a, b = torch.randn(3, 1, 28, 28), torch.randn(3, 1, 28, 28)
    for fn in (lerp, slerp):
        assert torch.equal(fn(a, b, 0.0), a) and torch.equal(fn(a, b, 1.0), b)


def test_slerp_keeps_the_norm_of_equal_norm_latents_and_lerp_does_not():
    a, b = torch.randn(4, 100), torch.randn(4, 100)
    b = b / b.norm(dim=1, keepdim=True) * a.norm(dim=1, keepdim=True)
    for alpha in (0.1, 0.25, 0.5, 0.9):
        torch.testing.assert_close(slerp(a, b, alpha).norm(dim=1), a.norm(dim=1), rtol=1e-5, atol=1e-5)
    assert (lerp(a, b, 0.5).norm(dim=1) < 0.9 * a.norm(dim=1)).all()  # independent Gaussians are ~orthogonal


def test_slerp_moves_at_constant_angular_speed_and_handles_parallel_latents():
    a, b = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 1.0]])
    torch.testing.assert_close(slerp(a, b, 1 / 3), torch.tensor([[3 ** 0.5 / 2, 0.5]]))
    torch.testing.assert_close(slerp(a, 2 * a, 0.5), 1.5 * a)  # parallel: falls back to the line
