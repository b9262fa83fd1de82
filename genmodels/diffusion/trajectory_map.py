"""Sampling paths on a map: several runs' x_t, stepped together through the U-Net, projected to 2-D by PCA.

PCA is linear, so a path's shape and the distances in the plane are true shadows of those in pixel space (t-SNE or
UMAP would invent clusters and bend the paths); fitted on the runs' own x_t, its two axes are the directions in
which these trajectories differ most.
"""
from dataclasses import dataclass, replace

import torch

from genmodels.diffusion import generate
from genmodels.diffusion.pretrained import DiffusionModel
from genmodels.runtime import timer

GUIDANCE_SCALES = (0.0, 1.0, 3.0, 7.0)
PATHS = 8  # runs on one map: few enough to follow each by eye
COMPARISONS = ("seeds", "guidance", "sampler")  # what differs between the paths


@dataclass(frozen=True)
class Group:
    """Runs that share every setting (one batch of `settings.count` start noises), under one name on the map."""
    name: str
    settings: generate.Settings


def comparison_groups(comparison: str, base: generate.Settings) -> list[Group]:
    """PATHS runs that differ only in what `comparison` names: the start noise (PATHS images of base.seed), the
    guidance scale (each of GUIDANCE_SCALES on the same two start noises), or the sampler (DDIM with eta 0 and
    DDPM on the same four start noises)."""
    if comparison == "seeds":
        return [Group(f"seed {base.seed}", replace(base, count=PATHS))]
    if comparison == "guidance":
        per_scale = PATHS // len(GUIDANCE_SCALES)
        return [Group(f"guidance {s:g}", replace(base, guidance=s, count=per_scale)) for s in GUIDANCE_SCALES]
    if comparison == "sampler":
        per_sampler = PATHS // len(generate.SAMPLERS)
        return [Group(name, replace(base, sampler=name, eta=0.0, count=per_sampler)) for name in generate.SAMPLERS]
    raise ValueError(f"comparison must be one of {COMPARISONS}, not {comparison!r}")


def sample_together(dm: DiffusionModel, groups: list[Group]) -> list[generate.Trajectory]:
    """Each group's trajectory with every step recorded, the groups stepped side by side, so the U-Net's engine runs
    them all in one batched pass per tick (with batching off, each runs alone and gives the same images)."""
    streams = [generate.sample_stream(dm, g.settings, keep=g.settings.steps) for g in groups]
    trajectories = []
    for records in zip(*streams, strict=True):  # equal step counts: the streams end together
        trajectories = [trajectory for _, trajectory in records]
    return trajectories


@dataclass
class Projection:
    """x -> (x - mean) @ components.T: the plane of the two principal components."""
    mean: torch.Tensor  # (D,)
    components: torch.Tensor  # (2, D), orthonormal rows
    explained: list[float]  # share of the fitted points' variance along each component

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """(..., 1, 28, 28) images -> (..., 2) coordinates."""
        return (x.flatten(-3).float() - self.mean) @ self.components.T


def fit_pca(points: torch.Tensor) -> Projection:
    """The top two principal components of points (N, D) (Pearson 1901), by SVD of the centred points; each
    component's sign makes its largest loading positive, so the same points always give the same map."""
    mean = points.mean(0)  # (D,)
    _, singular, vh = torch.linalg.svd(points - mean, full_matrices=False)  # vh (min(N, D), D)
    components = vh[:2] * vh[:2].gather(1, vh[:2].abs().argmax(1, keepdim=True)).sign()  # (2, D)
    variance = singular.pow(2)
    return Projection(mean, components, (variance[:2] / variance.sum()).tolist())


@dataclass
class DiffusionMap:
    """PATHS runs' x_t from pure noise to the final image, and their 2-D shadows."""
    names: list[str]  # the group of each path
    x_t: torch.Tensor  # (P, S + 1, 1, 28, 28) the input of each of the S steps, then the final image (fp16)
    images: torch.Tensor  # (P, 1, 28, 28) the final images in [-1, 1], float32
    timesteps: list[int]  # (S,) the t of each step
    projection: Projection
    paths: torch.Tensor  # (P, S + 1, 2) projection(x_t): from the start noise to the final image
    start_distance: float  # the mean distance in pixel space between two paths' start noises
    end_distance: float  # and between their final images
    seconds: float  # wall time of the sampling, all runs together
    network_evaluations: int  # U-Net evaluations of one image, all paths together


def diffusion_map(dm: DiffusionModel, groups: list[Group]) -> DiffusionMap:
    """Sample the groups together and project every x_t onto the two principal components of all of them."""
    with timer(dm.unet.conv_in.weight.device) as sampling:
        trajectories = sample_together(dm, groups)
    x_t = torch.cat([torch.stack([*(s.x_t for s in t.steps), t.images.half()], 1)
                     for t in trajectories])  # (P, S + 1, 1, 28, 28)
    images = torch.cat([t.images for t in trajectories])  # (P, 1, 28, 28)
    projection = fit_pca(x_t.flatten(2).float().flatten(0, 1))  # fitted on all (P * (S + 1), 784) points
    if (projection(images) - projection(x_t[:, 0])).mean(0)[0] < 0:  # on average, paths run left to right
        projection.components[0] *= -1
    paths = projection(x_t)  # (P, S + 1, 2)
    paths[:, -1] = projection(images)  # the end of a path is the final image itself, not its fp16 copy
    names = [g.name for g, t in zip(groups, trajectories) for _ in range(len(t.images))]
    evaluations = sum(t.network_evaluations * len(t.images) for t in trajectories)
    start_distance, end_distance = (torch.pdist(x.flatten(1).float()).mean().item() for x in (x_t[:, 0], images))
    return DiffusionMap(names, x_t, images, trajectories[0].timesteps, projection, paths, start_distance, end_distance,
                        sampling.seconds, evaluations)
