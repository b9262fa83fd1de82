"""The GAN family's requests and results: every limit, every check, and the functions the page and the API share.

A request is built from named values (`SampleRequest.build(kind=..., seed=..., count=...)`), which validates them
against LIMITS or raises RequestError; the family's function takes the request and returns a result; the API sends
`result.to_json()`, the page draws the result. Image i of a grid depends only on (seed, i).
"""
import math
from dataclasses import dataclass

import torch

from genmodels import serving
from genmodels.serving.oneshot import Batcher
from genmodels.checkpoint import CheckpointError
from genmodels.data.examples import REAL_COUNT, load_real_images
from genmodels.data.fashion_mnist import to_model_range
from genmodels.errors import RequestError
from genmodels.eval.judge import gray_levels, judged
from genmodels.gan import latent, toy2d
from genmodels.gan.pretrained import GAN, KINDS, generate, load_gan, p_real
from genmodels.runtime import timer
from genmodels.validation import SEED, Bound, Choice

LIMITS = {
    "kind": Choice("Generator", KINDS),
    "seed": SEED,
    "count": Bound("Number of images", 1, 64, integer=True),
    "frames": Bound("Frames", 2, 64, integer=True),
    "index": Bound("Image index", 0, 63, integer=True),  # a cell of the largest grid
    "discriminated": Bound("Number of images", 1, REAL_COUNT, integer=True),  # the shipped real test images
    "points": Bound("Points", 2, 8, integer=True),
    "frames_per_leg": Bound("Frames per leg", 1, 24, integer=True),
    "compared": Bound("Number of images", 16, REAL_COUNT, integer=True),
    "snapshot": Bound("Snapshot", 1, 1000, integer=True),  # clamped to the snapshots the log holds
    # The live 2-D GAN's settings are checked by toy2d.ToySettings.validate, which names every bad one at once;
    # these bounds are its ranges, for the widgets and the README.
    "lr": Bound("Learning rate", 0, toy2d.LR_MAX),  # greater than 0
    "d_steps": Bound("D steps per G step", *toy2d.D_STEPS_RANGE, integer=True),
    "steps": Bound("Steps", 1, 2000, integer=True),
    "batch_size": Bound("Batch size", *toy2d.BATCH_RANGE, integer=True),
    "latent_dim": Bound("Noise size", *toy2d.LATENT_RANGE, integer=True),
    "hidden": Bound("Neurons per layer", *toy2d.HIDDEN_RANGE, integer=True),
    "depth": Bound("Hidden layers", *toy2d.DEPTH_RANGE, integer=True),
    "preset": Choice("Preset", tuple(toy2d.PRESETS)),
    "part": Choice("Part", ("d", "g")),  # which network a lone update trains: the discriminator or the generator
    "grid_lines": Bound("Grid lines", 2, 64, integer=True),  # per side of the manifold's latent grid: one G pass
}
MAX_SAMPLES = LIMITS["count"].high
MAX_FRAMES = LIMITS["frames"].high
MAX_DISCRIMINATED = LIMITS["discriminated"].high
MAX_WALK_POINTS = LIMITS["points"].high
MAX_FRAMES_PER_LEG = LIMITS["frames_per_leg"].high
MAX_STEPS_PER_CALL = LIMITS["steps"].high
MAX_BATCH_REQUESTS = 16  # grids generated together; also gan_sample's concurrency, so that many can wait at once


def gan_model(kind) -> GAN:
    """The healthy or collapsed GAN, or a RequestError naming what is wrong."""
    kind = LIMITS["kind"].check(kind)
    try:
        return load_gan(kind)
    except (CheckpointError, FileNotFoundError) as err:
        raise RequestError(f"The {kind} GAN is unavailable: {err}") from None


@dataclass(frozen=True)
class Judged:
    """Generated images (B, 1, 28, 28) in [-1, 1], the discriminator's P(real) (B,) and the judge's verdicts
    ([] without the judge)."""
    images: torch.Tensor
    p_real: torch.Tensor
    verdicts: list[dict]

    def to_json(self) -> dict:
        return {"images": gray_levels(self.images), "p_real": [round(p, 4) for p in self.p_real.tolist()],
                "judge": self.verdicts}


@dataclass(frozen=True)
class SampleRequest:
    """A grid of `count` images from the latents of `seed`."""
    kind: str
    seed: int
    count: int

    @classmethod
    def build(cls, kind="healthy", seed=0, count=16) -> "SampleRequest":
        return cls(LIMITS["kind"].check(kind), LIMITS["seed"].check(seed), LIMITS["count"].check(count))


@dataclass(frozen=True)
class SampleResult(Judged):
    """A judged grid and the milliseconds of the generator pass that made it (with the grids batched with it)."""
    milliseconds: float


def sample_grids(requests: list[SampleRequest]) -> list[SampleResult]:
    """Grids for several requests of one kind in one generator pass: each is the grid it gets alone."""
    gan = gan_model(requests[0].kind)
    z = torch.cat([latent.sample_latents(r.seed, r.count, gan.config.latent_dim) for r in requests])
    with timer() as elapsed:
        x = generate(gan, z)  # (sum of counts, 1, 28, 28)
    p, verdicts = p_real(gan, x), judged(x)
    ends = torch.tensor([r.count for r in requests]).cumsum(0).tolist()
    return [SampleResult(x[start:end], p[start:end], verdicts[start:end], elapsed.milliseconds)
            for start, end in zip([0, *ends[:-1]], ends)]


GRID_BATCHER = Batcher(sample_grids, MAX_BATCH_REQUESTS)


def sample_grid(request: SampleRequest) -> SampleResult:
    """The request's grid, generated together with the grids of the same kind asked for meanwhile."""
    gan_model(request.kind)  # a clear error for missing weights, before joining a batch
    return GRID_BATCHER.submit(request.kind, request, enabled=serving.batching_enabled())


@dataclass(frozen=True)
class InterpolateRequest:
    """Paths from grid image (seed_a, index_a) to grid image (seed_b, index_b), `frames` images each."""
    kind: str
    seed_a: int
    index_a: int
    seed_b: int
    index_b: int
    frames: int

    @classmethod
    def build(cls, kind="healthy", seed_a=0, index_a=0, seed_b=1, index_b=0, frames=16) -> "InterpolateRequest":
        seed, index = LIMITS["seed"].check, LIMITS["index"].check
        return cls(LIMITS["kind"].check(kind), seed(seed_a), index(index_a), seed(seed_b), index(index_b),
                   LIMITS["frames"].check(frames))


@dataclass(frozen=True)
class LatentPath:
    images: torch.Tensor  # (frames, 1, 28, 28)
    norms: list[float]  # |z| of each frame's latent


@dataclass(frozen=True)
class InterpolationResult:
    linear: LatentPath
    spherical: LatentPath
    typical_norm: float  # sqrt(d): where Gaussian latents live
    milliseconds: float

    @property
    def sag(self) -> float:
        """The linear path's smallest |z| as a share of the typical norm."""
        return min(self.linear.norms) / self.typical_norm

    def to_json(self) -> dict:
        paths = {"linear": self.linear, "spherical": self.spherical}
        return {kind: {"images": gray_levels(p.images), "norms": [round(n, 4) for n in p.norms]}
                for kind, p in paths.items()} | {"typical_norm": self.typical_norm}


def latent_at(gan: GAN, seed: int, index: int) -> torch.Tensor:
    """Latent `index` of the grid drawn with `seed` (1, latent_dim): the same z as that grid cell."""
    return latent.sample_latents(seed, index + 1, gan.config.latent_dim)[index:]


def interpolate(request: InterpolateRequest) -> InterpolationResult:
    """Images and latent norms along the linear and the spherical path between the two grid latents."""
    gan = gan_model(request.kind)
    z_a, z_b = latent_at(gan, request.seed_a, request.index_a), latent_at(gan, request.seed_b, request.index_b)
    paths = {}
    with timer() as elapsed:
        for kind in latent.KINDS:
            path = latent.interpolation_path(z_a, z_b, request.frames, kind)  # (frames, latent_dim)
            paths[kind] = LatentPath(generate(gan, path), path.norm(dim=1).tolist())
    return InterpolationResult(**paths, typical_norm=math.sqrt(gan.config.latent_dim),
                               milliseconds=elapsed.milliseconds)


@dataclass(frozen=True)
class WalkRequest:
    """A looping spherical tour through `points` latents of `seed`, `frames_per_leg` images between two."""
    kind: str
    seed: int
    points: int
    frames_per_leg: int

    @classmethod
    def build(cls, kind="healthy", seed=7, points=5, frames_per_leg=12) -> "WalkRequest":
        return cls(LIMITS["kind"].check(kind), LIMITS["seed"].check(seed), LIMITS["points"].check(points),
                   LIMITS["frames_per_leg"].check(frames_per_leg))


@dataclass(frozen=True)
class WalkResult:
    images: torch.Tensor  # (points * frames_per_leg, 1, 28, 28)
    anchors: torch.Tensor  # (points, 1, 28, 28): the images the walk passes through


def walk(request: WalkRequest) -> WalkResult:
    """The tour's images, every frame a sample of the generator."""
    gan = gan_model(request.kind)
    path = latent.latent_walk(request.seed, request.points, request.frames_per_leg, gan.config.latent_dim)
    x = generate(gan, path)
    return WalkResult(x, x[::request.frames_per_leg])


@dataclass(frozen=True)
class DiscriminateRequest:
    """The discriminator on the first `count` shipped real test images and on `count` generated from `seed`."""
    kind: str
    count: int
    seed: int

    @classmethod
    def build(cls, kind="healthy", count=256, seed=0) -> "DiscriminateRequest":
        return cls(LIMITS["kind"].check(kind), LIMITS["discriminated"].check(count), LIMITS["seed"].check(seed))


@dataclass(frozen=True)
class DiscriminationResult:
    real: torch.Tensor  # (count,) P(real) on real images
    generated: torch.Tensor  # (count,) P(real) on generated images
    images: torch.Tensor  # (count, 1, 28, 28) the generated images

    @property
    def accuracy(self) -> float:
        """The share of all these images that P(real) thresholded at 0.5 sorts correctly."""
        return ((self.real > 0.5).float().mean() + (self.generated <= 0.5).float().mean()).item() / 2

    def extremes(self, count: int) -> tuple[Judged, Judged]:
        """The `count` generated images the discriminator finds least real (least first) and most real."""
        order = self.generated.argsort()
        picks = torch.cat([order[:count], order[-count:]])
        verdicts = judged(self.images[picks])  # one classifier pass for both ends
        least, most = picks[:count], picks[count:]
        return (Judged(self.images[least], self.generated[least], verdicts[:count]),
                Judged(self.images[most], self.generated[most], verdicts[count:]))

    def to_json(self) -> dict:
        real, fake = self.real.tolist(), self.generated.tolist()
        return {"real": [round(p, 4) for p in real], "generated": [round(p, 4) for p in fake],
                "mean_real": sum(real) / len(real), "mean_generated": sum(fake) / len(fake)}


def discriminate(request: DiscriminateRequest) -> DiscriminationResult:
    """P(real) from the discriminator on real and on generated images."""
    gan = gan_model(request.kind)
    try:
        real = to_model_range(load_real_images()[:request.count])
    except (CheckpointError, FileNotFoundError) as err:
        raise RequestError(str(err)) from None
    fake = generate(gan, latent.sample_latents(request.seed, request.count, gan.config.latent_dim))
    return DiscriminationResult(p_real(gan, real), p_real(gan, fake), fake)
