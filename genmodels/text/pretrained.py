"""The committed text model, loaded once per process and shared read-only by every request."""
from dataclasses import dataclass
from pathlib import Path

from tokenizers import Tokenizer

from genmodels.checkpoint import load_checkpoint, loaded_once
from genmodels.paths import ASSETS
from genmodels.runtime import pick_device
from genmodels.text.gpt import GPT, GPTConfig
from genmodels.text.tokenizer import end_of_text_id, load_tokenizer

ASSET_DIR = ASSETS / "text"
REMAKE = "python -m genmodels.text.train --preset gpu"


@dataclass(frozen=True)
class TextModel:
    model: GPT
    tokenizer: Tokenizer
    start_id: int  # end-of-text token, which starts every text
    record: dict  # the checkpoint's JSON (config, training step, validation loss)


@loaded_once
def _load(asset_dir: Path) -> TextModel:
    tokenizer = load_tokenizer(asset_dir / "tokenizer.json")
    model, record = load_checkpoint(GPT, GPTConfig, asset_dir / "gpt", REMAKE, device=pick_device())
    return TextModel(model, tokenizer, end_of_text_id(tokenizer), record)


def load_text_model(asset_dir: Path | str = ASSET_DIR) -> TextModel:
    """The GPT and tokenizer from assets/text, loaded on first use on the chosen device."""
    return _load(Path(asset_dir))
