"""A pasted text as a character vocabulary and train / held-out splits, with the limits a text must meet.

Any Unicode character may appear (the model reads Python characters, not bytes); line endings become "\\n". The
last HELDOUT_FRACTION of the text is held out and never trained on, so a model that memorizes a small text shows
it: its held-out bits per character stop falling while its training ones go on.
"""
import unicodedata
from dataclasses import dataclass, field

import torch

from genmodels.errors import RequestError
from genmodels.validation import text as checked_text

MIN_CHARS = 200  # below this the held-out part is too short to measure and the training part too short to learn
MAX_CHARS = 20_000  # a 45 s training reads each window of a text this long only a few times; longer adds nothing
MAX_VOCAB = 256  # distinct characters: the model's embedding has a row for each, and a chart of 256 is unreadable
HELDOUT_FRACTION = 0.1  # the end of the text the model never trains on
MIN_HELDOUT_CHARS = 50
ALLOWED_CONTROLS = "\n\t"
SHOWN_CHARS = 8  # messages name at most this many characters


def normalize_newlines(value: str) -> str:
    """Windows ("\\r\\n") and old Mac ("\\r") line endings as "\\n"."""
    return value.replace("\r\n", "\n").replace("\r", "\n")


def show_chars(chars: list[str]) -> str:
    """Characters as a reader can see them, quoted (a space or a tab would vanish), the first SHOWN_CHARS."""
    shown = ", ".join(repr(c) for c in chars[:SHOWN_CHARS])
    return shown + (f" and {len(chars) - SHOWN_CHARS} more" if len(chars) > SHOWN_CHARS else "")


def checked(value, name: str, max_chars: int = MAX_CHARS) -> str:
    """`value` as text with "\\n" line endings and no control character but newlines and tabs, else a RequestError."""
    value = checked_text(normalize_newlines(value) if isinstance(value, str) else value, name, max_chars)
    control = next((c for c in value if unicodedata.category(c) == "Cc" and c not in ALLOWED_CONTROLS), None)
    if control is not None:
        raise RequestError(f"{name} contains control characters (such as U+{ord(control):04X}); only newlines and "
                           "tabs are allowed.")
    return value


@dataclass(frozen=True)
class Vocabulary:
    """The distinct characters of a text in code point order; a character's id is its place in `chars`."""
    chars: tuple[str, ...]
    ids: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "ids", {c: i for i, c in enumerate(self.chars)})

    @classmethod
    def of(cls, text: str) -> "Vocabulary":
        return cls(tuple(sorted(set(text))))

    @property
    def size(self) -> int:
        return len(self.chars)

    def unknown(self, text: str) -> list[str]:
        """The characters of `text` outside the vocabulary, each once, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.ids))

    def encode(self, text: str) -> list[int]:
        """Ids of `text`, whose characters the caller has checked with `unknown`."""
        return [self.ids[c] for c in text]

    def decode(self, ids: list[int], skip_special_tokens: bool = False) -> str:
        """The characters of `ids`. Called as tokenizers.Tokenizer.decode is, so genmodels.text.explain's views
        show this model's steps as they show the main model's (there are no special tokens to skip)."""
        return "".join(self.chars[i] for i in ids)

    def known(self, text: str, name: str) -> list[int]:
        """Ids of `text`, or a RequestError naming the characters the model never saw."""
        unknown = self.unknown(text)
        if unknown:
            raise RequestError(f"{name} has characters your text did not: {show_chars(unknown)}. The model only "
                               f"knows the {self.size} different characters of the text it was trained on.")
        return self.encode(text)


@dataclass(frozen=True, eq=False)
class Corpus:
    """A checked text, its vocabulary, and its ids split into the part trained on and the held-out end."""
    text: str
    vocabulary: Vocabulary
    train: torch.Tensor  # (N_train,) long
    heldout: torch.Tensor  # (N_heldout,) long, the last characters of the text

    @classmethod
    def from_text(cls, value, name: str = "Your text") -> "Corpus":
        """Check `value` against the limits above and split it, else a RequestError saying what to change."""
        text = checked(value, name)
        if not text.strip():
            raise RequestError(f"Paste some text to train on: at least {MIN_CHARS:,} characters (at most "
                               f"{MAX_CHARS:,}).")
        if len(text) < MIN_CHARS:
            raise RequestError(f"{name} is {len(text):,} characters; the model needs at least {MIN_CHARS:,} to learn "
                               "from and to measure on the part it does not train on.")
        vocabulary = Vocabulary.of(text)
        if vocabulary.size > MAX_VOCAB:
            raise RequestError(f"{name} has {vocabulary.size:,} different characters; the limit is {MAX_VOCAB}. "
                               "Use one language and script, or leave out symbols and emoji.")
        ids = torch.tensor(vocabulary.encode(text), dtype=torch.long)  # (N,)
        n_heldout = max(MIN_HELDOUT_CHARS, round(len(text) * HELDOUT_FRACTION))
        return cls(text, vocabulary, ids[:-n_heldout], ids[-n_heldout:])

    @property
    def heldout_text(self) -> str:
        return self.text[-len(self.heldout):]
