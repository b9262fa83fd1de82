"""Committed files are found from the package's location, so the app runs from any working directory, and messages
name them relative to the repository, so no server folder reaches a user."""
import pytest

from genmodels.checkpoint import CheckpointError, read_config
from genmodels.data.examples import load_examples
from genmodels.paths import ASSETS, shown
from genmodels.text.gpt import GPTConfig
from genmodels.text.tokenizer import VOCAB_SIZE, load_tokenizer


def test_committed_files_are_found_from_any_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_tokenizer().get_vocab_size() == VOCAB_SIZE
    assert load_examples().shape == (10, 28, 28)


def test_messages_name_files_in_the_repository_relative_to_it(tmp_path):
    assert shown(ASSETS / "text" / "gpt.json") == "assets/text/gpt.json"
    assert shown(tmp_path / "gpt.json") == str(tmp_path / "gpt.json")  # outside it: the path as given
    with pytest.raises(CheckpointError, match=r"^assets/text/nothing\.json is missing; re-create it with `remake`"):
        read_config(ASSETS / "text" / "nothing", GPTConfig, "remake")
