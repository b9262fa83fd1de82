"""The lab's canvas: a picture of the plane to click on, showing the data's modes and the user's own points."""
from PIL import Image, ImageDraw

from genmodels.gan.toy_data import EXTENT, ToyDistribution

CANVAS_PIXELS = 300
GRID_COLOR, AXIS_COLOR, MODE_COLOR, POINT_COLOR = "#EEEEEE", "#BBBBBB", "#BBBBBB", "#009E73"


def to_pixel(x: float, y: float) -> tuple[float, float]:
    """A point of the plane as a pixel of the canvas (y grows upward on the plane, downward in the image)."""
    xmin, xmax, ymin, ymax = EXTENT
    return ((x - xmin) / (xmax - xmin) * CANVAS_PIXELS, (ymax - y) / (ymax - ymin) * CANVAS_PIXELS)


def to_plane(column: float, row: float) -> tuple[float, float]:
    """A clicked pixel as a point of the plane, rounded to 0.05 so a link carries short numbers."""
    xmin, xmax, ymin, ymax = EXTENT
    x = xmin + column / CANVAS_PIXELS * (xmax - xmin)
    y = ymax - row / CANVAS_PIXELS * (ymax - ymin)
    return round(x * 20) / 20, round(y * 20) / 20


def canvas_image(data: ToyDistribution | None, points: tuple[tuple[float, float], ...]) -> Image.Image:
    """The plane with grid lines every unit, the chosen data's mode centers as grey rings, and the user's points."""
    image = Image.new("RGB", (CANVAS_PIXELS, CANVAS_PIXELS), "white")
    draw = ImageDraw.Draw(image)
    xmin, xmax, _, _ = EXTENT
    for unit in range(int(xmin), int(xmax) + 1):
        column, row = to_pixel(unit, unit)
        color = AXIS_COLOR if unit == 0 else GRID_COLOR
        draw.line([(column, 0), (column, CANVAS_PIXELS)], fill=color)
        draw.line([(0, row), (CANVAS_PIXELS, row)], fill=color)
    if data is not None and data.centers is not None:
        for x, y in data.centers:
            column, row = to_pixel(x, y)
            draw.ellipse([column - 5, row - 5, column + 5, row + 5], outline=MODE_COLOR, width=2)
    for x, y in points:
        column, row = to_pixel(x, y)
        draw.ellipse([column - 6, row - 6, column + 6, row + 6], fill=POINT_COLOR, outline="black")
    return image
