"""Byte-level BPE tokenizer (Hugging Face `tokenizers`): every Unicode string round-trips exactly."""
from pathlib import Path

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

from genmodels.checkpoint import CheckpointError
from genmodels.paths import ASSETS, shown

END_OF_TEXT = "<|endoftext|>"
TOKENIZER_PATH = ASSETS / "text" / "tokenizer.json"
VOCAB_SIZE = 4096  # 2.87 chars/token on the validation plays; 8k only reaches 3.09 (measured)
REMAKE = "python -m genmodels.text.train --preset gpu"


def train_tokenizer(texts: list[str], vocab_size: int = VOCAB_SIZE) -> Tokenizer:
    """Learn byte-level BPE merges on `texts`; all 256 bytes are in the vocabulary, so nothing is unknown."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=[END_OF_TEXT],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    return tokenizer


def load_tokenizer(path: Path | str = TOKENIZER_PATH, remake: str = REMAKE) -> Tokenizer:
    """Load a committed tokenizer; a missing or unreadable file names the command `remake` that re-creates it."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{shown(path)} is missing; re-create it with `{remake}`")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # tokenizers raises a plain Exception for a truncated or corrupt file
        raise CheckpointError(f"{shown(path)} is unreadable ({err}); re-create it with `{remake}`") from None


def end_of_text_id(tokenizer: Tokenizer) -> int:
    """Id of the end-of-text token, which also starts every text."""
    return tokenizer.token_to_id(END_OF_TEXT)


def encode(tokenizer: Tokenizer, text: str) -> list[int]:
    """Token ids of `text` (the literal end-of-text marker maps to its special token)."""
    return tokenizer.encode(text, add_special_tokens=False).ids


def decode(tokenizer: Tokenizer, ids: list[int]) -> str:
    """Text of `ids`, special tokens included, so decode(encode(s)) == s."""
    return tokenizer.decode(ids, skip_special_tokens=False)


def token_texts(tokenizer: Tokenizer, ids: list[int]) -> list[str]:
    """The text piece each id stands for; pieces that split a UTF-8 character show as U+FFFD."""
    return [decode(tokenizer, [i]) for i in ids]
