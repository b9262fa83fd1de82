"""The pixel family's requests and results: every limit, every check, and the functions the page and the API share.

`PixelRequest.build(label=..., count=..., temperature=...)` validates the named values against LIMITS (the sampling
settings with the text family's `Sampling`, top-k bounded by the model's gray levels) or raises RequestError;
`sample` and `sample_stream` draw the same images for the same request.
"""
from collections.abc import Iterator
from dataclasses import dataclass

import torch

from genmodels.checkpoint import CheckpointError
from genmodels.data.fashion_mnist import CLASS_NAMES, to_model_range
from genmodels.errors import RequestError
from genmodels.eval.judge import judged
from genmodels.pixels.gaze import gaze
from genmodels.pixels.model import PIXELS, class_token, dequantize, quantize
from genmodels.pixels.sample import PixelModel, evaluations_per_image, load_pixel_model, pixel_stream
from genmodels.runtime import timer
from genmodels.text.requests import Sampling
from genmodels.text.sampling import TokenStep
from genmodels.validation import Bound, Choice

ANY_CLASS = "any class"
LIMITS = {
    "label": Choice("Class", (*CLASS_NAMES, ANY_CLASS)),  # or a class index 0-9
    "count": Bound("Number of images", 1, 16, integer=True),
    "guidance": Bound("Guidance scale", 0, 5),  # 1: the model as trained; each image then costs 784 evaluations
    "pixel": Bound("Pixel", 1, PIXELS, integer=True),  # a pixel of image 1 to inspect (1-based)
}
LABELS = list(LIMITS["label"].options)
DEFAULT_GUIDANCE = 2.0  # the judge names the asked class far more often than at 1 (docs/performance.md)
MAX_IMAGES = int(LIMITS["count"].high)


def pixel_model() -> PixelModel:
    """The committed pixel transformer, or a RequestError naming the command that makes it."""
    try:
        return load_pixel_model()
    except (CheckpointError, FileNotFoundError) as err:
        raise RequestError(f"The pixel model is unavailable: {err}") from None


def class_id(label) -> int | None:
    """A class name (or its index 0-9) as a class id; "any class" as None."""
    if isinstance(label, str) and label in LABELS:
        return None if label == ANY_CLASS else CLASS_NAMES.index(label)
    if isinstance(label, int) and not isinstance(label, bool) and 0 <= label < len(CLASS_NAMES):
        return label
    raise RequestError(f"{LIMITS['label'].name} must be one of {', '.join(LABELS)} (or 0-9).")


@dataclass(frozen=True)
class PixelRequest:
    """`count` images of class `label` (None: any class), every pixel drawn with `sampling` from the logits guided
    toward the class at scale `guidance`."""
    label: int | None
    count: int
    sampling: Sampling
    guidance: float = 1.0

    @classmethod
    def build(cls, label="Sneaker", count=4, temperature=1.0, top_k=0, top_p=1.0, seed=0,
              guidance=DEFAULT_GUIDANCE) -> "PixelRequest":
        levels = pixel_model().model.config.levels
        sampling = Sampling.build(temperature, top_k, top_p, seed, vocab_size=levels)
        return cls(class_id(label), LIMITS["count"].check(count), sampling, LIMITS["guidance"].check(guidance))


@dataclass(frozen=True)
class PixelResult:
    """Finished images: their gray-level tokens (count, 784), the images as uint8 (count, 28, 28), the judge's
    verdicts, the drawing time and the device it ran on."""
    tokens: torch.Tensor
    images: torch.Tensor
    judge: list[dict]
    seconds: float
    levels: int
    label: int | None
    device: str
    guidance: float
    network_evaluations: int  # per image: one per pixel, two when guided

    @property
    def x(self) -> torch.Tensor:
        """The images as (count, 1, 28, 28) in [-1, 1]."""
        return to_model_range(self.images)

    def to_json(self) -> dict:
        return {"images": self.images.tolist(), "judge": self.judge, "seconds": round(self.seconds, 3),
                "network_evaluations_per_image": self.network_evaluations, "levels": self.levels,
                "class": None if self.label is None else CLASS_NAMES[self.label], "guidance": self.guidance}


def sample_stream(request: PixelRequest, drawn_by: PixelModel | None = None) -> Iterator[TokenStep]:
    """One TokenStep per pixel (784, raster order); its `token` (count,) is that pixel's level in every image. The
    committed model draws, unless `drawn_by` names another (a benchmark's tiny one)."""
    s, model = request.sampling, (drawn_by or pixel_model()).model
    return pixel_stream(model, request.label, request.count, s.temperature, s.top_k, s.top_p, s.seed, request.guidance)


def finished(request: PixelRequest, tokens: torch.Tensor, seconds: float,
             drawn_by: PixelModel | None = None) -> PixelResult:
    """The result of drawing `tokens` (count, 784) for `request` in `seconds`, judged."""
    model = (drawn_by or pixel_model()).model
    levels = model.config.levels
    images = dequantize(tokens.cpu(), levels).view(request.count, 28, 28)
    return PixelResult(tokens=tokens.cpu(), images=images, judge=judged(to_model_range(images)), seconds=seconds,
                       levels=levels, label=request.label, device=str(next(model.parameters()).device),
                       guidance=request.guidance,
                       network_evaluations=evaluations_per_image(request.label, request.guidance))


def sample(request: PixelRequest, drawn_by: PixelModel | None = None) -> PixelResult:
    """The whole drawing at once (sample_stream drained), timed."""
    with timer() as elapsed:
        tokens = torch.stack([step.token for step in sample_stream(request, drawn_by)], 1).cpu()  # (count, 784)
    return finished(request, tokens, elapsed.seconds, drawn_by)


def gray_image(image) -> torch.Tensor:
    """A 28 x 28 image of gray values 0-255 (nested lists, or 784 numbers in raster order) as uint8 (28, 28), or a
    RequestError."""
    message = "Image must be 28 x 28 gray values from 0 to 255 (rows of 28 numbers, or 784 numbers row by row)."
    try:
        values = torch.as_tensor(image, dtype=torch.float64)
    except (TypeError, ValueError, OverflowError, RuntimeError):
        raise RequestError(message) from None
    if values.shape not in ((PIXELS,), (28, 28)) or not ((values >= 0) & (values <= 255)).all():  # NaN fails too
        raise RequestError(message)
    return values.round().to(torch.uint8).view(28, 28)


@dataclass(frozen=True)
class GazeRequest:
    """Where the model looks when it predicts pixel `pixel` (1-based) of `image`, drawn as class `label` (None: any
    class); only the pixels before it are read."""
    label: int | None
    image: torch.Tensor  # (28, 28) uint8
    pixel: int

    @classmethod
    def build(cls, label="Sneaker", image=None, pixel=PIXELS) -> "GazeRequest":
        return cls(class_id(label), gray_image(image), LIMITS["pixel"].check(pixel))


@dataclass(frozen=True)
class GazeResult:
    """Each block's attention (heads averaged) over the pixels drawn before the inspected one, and its distribution."""
    request: GazeRequest
    maps: torch.Tensor  # (L, 28, 28)
    class_share: list[float]  # per block
    probs: list[float]  # per gray level
    levels: int

    @property
    def mean(self) -> torch.Tensor:
        """The blocks' maps averaged (28, 28)."""
        return self.maps.mean(0)

    def to_json(self) -> dict:
        index = self.request.pixel - 1
        return {"pixel": self.request.pixel, "row": index // 28 + 1, "column": index % 28 + 1,
                "drawn_pixels": index, "layers": self.maps.tolist(), "mean": self.mean.tolist(),
                "class_token": self.class_share, "probs": self.probs, "levels": self.levels}


def gaze_at(request: GazeRequest) -> GazeResult:
    """The model's gaze predicting the request's pixel from the image's earlier pixels, quantized as it draws them."""
    model = pixel_model().model
    levels = model.config.levels
    drawn = quantize(request.image[None], levels)[0].tolist()  # (784,) gray levels in raster order
    found = gaze(model, class_token(model.config, request.label), drawn, request.pixel - 1)
    return GazeResult(request, found.maps, found.class_share.tolist(), found.probs.tolist(), levels)
