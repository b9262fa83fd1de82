"""The GAN's Gaussian latent space: seeded latents, linear and spherical paths, a looping latent walk, a grid."""
import torch

from genmodels.interpolate import lerp, slerp
from genmodels.runtime import make_generator

__all__ = ["KINDS", "interpolation_path", "latent_plane", "latent_walk", "lerp", "quantile_grid", "sample_latents",
           "slerp"]
KINDS = ("linear", "spherical")


def sample_latents(seed: int, count: int, dim: int, device="cpu") -> torch.Tensor:
    """z ~ N(0, I) (count, dim) from the seed; row i depends only on (seed, i), drawn with seed * 1000 + i."""
    rows = [torch.randn(dim, generator=make_generator(seed * 1000 + i)) for i in range(count)]
    return torch.stack(rows).to(device)  # (count, dim)


def interpolation_path(z_a: torch.Tensor, z_b: torch.Tensor, frames: int, kind: str = "spherical") -> torch.Tensor:
    """`frames` latents (frames, dim) from z_a to z_b (each (dim,) or (1, dim)), both endpoints included:
    "linear" is lerp (cuts inside the Gaussian shell), "spherical" is slerp (stays on it; White 2016)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    if frames < 2:
        raise ValueError(f"an interpolation needs at least 2 frames, not {frames}")
    a, b = z_a.reshape(1, -1), z_b.reshape(1, -1)  # (1, dim)
    step = lerp if kind == "linear" else slerp
    return torch.cat([step(a, b, alpha) for alpha in torch.linspace(0, 1, frames).tolist()])  # (frames, dim)


def latent_walk(seed: int, points: int, frames_per_leg: int, dim: int) -> torch.Tensor:
    """A closed spherical tour (points * frames_per_leg, dim) through `points` latents of the seed: leg k runs
    from point k towards point k + 1 without reaching it, and the last leg returns towards the first point."""
    if points < 2 or frames_per_leg < 1:
        raise ValueError(f"a walk needs at least 2 points and 1 frame per leg, not {points} and {frames_per_leg}")
    anchors = sample_latents(seed, points, dim)  # (points, dim)
    alphas = (torch.arange(frames_per_leg) / frames_per_leg).tolist()
    legs = [slerp(anchors[k:k + 1], anchors[(k + 1) % points][None], alpha) for k in range(points) for alpha in alphas]
    return torch.cat(legs)  # (points * frames_per_leg, dim)


def quantile_grid(size: int, coverage: float = 0.98) -> torch.Tensor:
    """`size` values (size,) at evenly spaced quantiles of N(0, 1) over its middle `coverage`: neighbouring values
    enclose equal shares of a Gaussian latent coordinate."""
    tail = (1 - coverage) / 2
    return torch.special.ndtri(torch.linspace(tail, 1 - tail, size, dtype=torch.float64)).float()  # (size,)


def latent_plane(axis: torch.Tensor, dim: int) -> torch.Tensor:
    """Latents (rows, size, dim) on the plane of the first two coordinates, the others 0: z[i, j] = (axis[j],
    axis[i], 0, ..., 0); a single row (1, size, 1), the line of the one coordinate, when dim is 1."""
    rows = len(axis) if dim >= 2 else 1
    z = torch.zeros(rows, len(axis), dim)
    z[..., 0] = axis  # along a row
    if dim >= 2:
        z[..., 1] = axis[:, None]  # down a column
    return z
