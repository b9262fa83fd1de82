"""Interpolation between Gaussian latents, shared by diffusion noise and GAN latents."""
import torch


def lerp(a: torch.Tensor, b: torch.Tensor, alpha: float) -> torch.Tensor:
    """(1 - alpha) a + alpha b: the straight line, which cuts inside the shell where Gaussian samples live."""
    return torch.lerp(a, b, alpha)


def slerp(a: torch.Tensor, b: torch.Tensor, alpha: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 for generative models) per row of a, b (B, ...):
    sin((1-alpha) theta)/sin(theta) a + sin(alpha theta)/sin(theta) b, theta the angle between a and b;
    endpoints are exact and, for |a| = |b|, the norm stays constant along the arc."""
    if alpha == 0:
        return a.clone()
    if alpha == 1:
        return b.clone()
    flat_a, flat_b = a.flatten(1).double(), b.flatten(1).double()  # (B, D)
    cos = (flat_a * flat_b).sum(1) / (flat_a.norm(dim=1) * flat_b.norm(dim=1)).clamp(min=eps)  # (B,)
    theta = cos.clamp(-1, 1).acos()[:, None]  # (B, 1)
    sin = theta.sin()
    near = sin.abs() < eps  # nearly parallel: the arc is a line
    wa = torch.where(near, 1 - alpha, ((1 - alpha) * theta).sin() / sin.clamp(min=eps))
    wb = torch.where(near, torch.full_like(sin, alpha), (alpha * theta).sin() / sin.clamp(min=eps))
    return (wa * flat_a + wb * flat_b).to(a.dtype).view_as(a)
