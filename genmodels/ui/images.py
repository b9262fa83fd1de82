"""Tensors to pictures for the UI: upscaled grids, film strips and GIF animations (PIL, nearest neighbour)."""
import base64
import io
import math
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont

SCALE = 6  # 28 px -> 168 px: big enough to see, pixels kept sharp


def to_uint8(x: torch.Tensor, value_range: float = 1.0) -> np.ndarray:
    """(B, 1, H, W) values in [-value_range, value_range] -> uint8 (B, H, W), clipped."""
    x = x.detach().float().cpu()[:, 0] / value_range
    return ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()


def upscale(image: np.ndarray, scale: int = SCALE) -> Image.Image:
    """A uint8 (H, W) array as a PIL image enlarged `scale` times with nearest neighbour."""
    picture = Image.fromarray(image, mode="L")
    return picture.resize((picture.width * scale, picture.height * scale), Image.NEAREST)


def pictures(x: torch.Tensor, value_range: float = 1.0, scale: int = SCALE) -> list[Image.Image]:
    """One upscaled PIL image per item of a (B, 1, H, W) batch."""
    return [upscale(a, scale) for a in to_uint8(x, value_range)]


def gallery(x: torch.Tensor, labels: list[str]) -> list[tuple]:
    """(picture, caption) pairs for gr.Gallery from a (B, 1, H, W) batch in [-1, 1]."""
    return list(zip(pictures(x), labels))


def data_uri(picture: Image.Image) -> str:
    """A PNG as a data: URI, for an image placed inside a plotly figure."""
    png = io.BytesIO()
    picture.save(png, format="PNG")
    return "data:image/png;base64," + base64.b64encode(png.getvalue()).decode()


def square_columns(count: int) -> int:
    """Columns for a near-square grid of `count` images."""
    return math.ceil(math.sqrt(count))


def grid(images: list[Image.Image], columns: int, gap: int = 4, labels: list[str] | None = None,
         background: int = 255) -> Image.Image:
    """Images laid out in rows of `columns`, optional captions under each, in a font that scales with the images
    (a fixed 11 px font ends up about 6 px high once a wide strip is fitted to the page)."""
    width, height = images[0].size
    font = ImageFont.load_default(size=max(12, width // 7))
    label_height = font.size + 6 if labels else 0
    rows = -(-len(images) // columns)
    canvas = Image.new("L", (columns * (width + gap) - gap, rows * (height + gap + label_height) - gap), background)
    draw = ImageDraw.Draw(canvas)
    for i, picture in enumerate(images):
        x, y = (i % columns) * (width + gap), (i // columns) * (height + gap + label_height)
        canvas.paste(picture, (x, y))
        if labels:
            draw.text((x + 2, y + height + 2), labels[i], fill=0, font=font)
    return canvas


GIF_DIR = Path(tempfile.gettempdir()) / "genmodels-animations"
GIF_MAX_AGE_SECONDS = 3600


def save_gif(frames: list[Image.Image], seconds: float = 3.0, hold_last: float = 1.0) -> str:
    """Write a looping GIF to a temporary file and return its path; files older than an hour are removed."""
    GIF_DIR.mkdir(exist_ok=True)
    now = time.time()
    for old in GIF_DIR.glob("*.gif"):
        if now - old.stat().st_mtime > GIF_MAX_AGE_SECONDS:
            old.unlink(missing_ok=True)
    duration = max(20, int(1000 * seconds / max(1, len(frames))))
    durations = [duration] * (len(frames) - 1) + [int(1000 * hold_last)]
    path = GIF_DIR / f"{uuid.uuid4().hex}.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=False)
    return str(path)
