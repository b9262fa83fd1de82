"""Where the repository's files are, found from this package's location rather than the working directory."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # the repository root: genmodels/ sits in it
ASSETS = ROOT / "assets"  # committed weights, tokenizers, logs and example images


def shown(path: Path | str) -> str:
    """`path` as a message names it: relative to the repository root when inside it, so no server folder leaks."""
    try:
        return str(Path(path).resolve().relative_to(ROOT))
    except ValueError:
        return str(path)
