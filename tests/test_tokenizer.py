"""Byte-level BPE: every string round-trips exactly, and the end-of-text marker is one token."""
import random

import pytest

from genmodels.text.tokenizer import (
    END_OF_TEXT,
    TOKENIZER_PATH,
    decode,
    encode,
    end_of_text_id,
    load_tokenizer,
    token_texts,
    train_tokenizer,
)

# Made-up play-like lines written for this test.
LINES = [
    "MARGERY. Good morrow, cousin; the kettle sings and the bread is cold.",
    "TOBIAS. Then warm it, wench, and sing along with it.",
    "MARGERY. I sing for no man that owes me a shilling.",
    "TOBIAS. A shilling! I owe thee the whole moon, and thou shalt have it.",
    "Enter a CLERK, with papers.",
    "CLERK. My lord, the mayor bids you come to the market cross.",
    "TOBIAS. Tell the mayor the moon is mine and I am busy spending it.",
    "Exeunt.",
]
CORPUS = [END_OF_TEXT + "\n".join(LINES[i:] + LINES[:i]) + "\n" for i in range(len(LINES))]

ODD_STRINGS = [
    "",
    " ",
    "  leading and trailing  ",
    "emoji: 😀👩‍👩‍👧‍👦🏳️‍🌈 and flags 🇫🇷🇯🇵",
    "CJK: 天地玄黄 宇宙洪荒 日本語のテキスト 한국어",
    "combining: e\u0301 a\u0308\u0323 Z\u0336\u0337 \u0915\u094d\u0937",
    "controls: \x00 \x07 \x1b[31mred\x1b[0m \x7f \x85",
    "line endings: a\r\nb\rc\nd\r\n\r\n",
    "\ttabs\tand\t\tmore\t",
    "marker alone",
    END_OF_TEXT,
    END_OF_TEXT + END_OF_TEXT,
    "before" + END_OF_TEXT + "after",
    "broken marker <|endoftext| and <|endof" + "text|> and < |endoftext|>",
    "\ufeffBOM, \u200bzero width\u200d, \u202eright to left\u202c, \ufffd replacement",
    "private use \ue000 and plane 16 \U0010fffd and noncharacter \uffff",
    "math 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ∮ E⋅da = Q and music 𝄞",
    "'s 't 're n't -- ... !!! ??? 123456789 3.14159",
]

RANGES = [(0x20, 0x7E), (0x00, 0x1F), (0xA0, 0x24F), (0x370, 0x3FF), (0x400, 0x4FF), (0x590, 0x6FF),
          (0x900, 0x97F), (0x3040, 0x30FF), (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xD000, 0xDFFF),
          (0xE000, 0xF8FF), (0xFE00, 0xFFFF), (0x1F300, 0x1FAFF), (0x10000, 0x10FFFF)]


def random_unicode(rng: random.Random, length: int) -> str:
    chars = []
    while len(chars) < length:
        low, high = rng.choice(RANGES)
        code = rng.randint(low, high)
        if 0xD800 <= code <= 0xDFFF:  # surrogates are not characters
            continue
        chars.append(chr(code))
    return "".join(chars)


@pytest.fixture(scope="module")
def tokenizer():
    return train_tokenizer(CORPUS, vocab_size=300)


def test_trained_vocabulary_has_all_bytes_merges_and_the_marker(tokenizer):
    size = tokenizer.get_vocab_size()
    assert 257 < size <= 300  # 256 bytes + the marker + some merges
    text = "\n".join(LINES)
    assert len(encode(tokenizer, text)) < 0.7 * len(text.encode("utf-8"))  # merges compress seen text


@pytest.mark.parametrize("text", ODD_STRINGS)
def test_round_trip_of_odd_strings(tokenizer, text):
    assert decode(tokenizer, encode(tokenizer, text)) == text


def test_round_trip_of_random_unicode(tokenizer):
    rng = random.Random(1234)
    for _ in range(200):
        text = random_unicode(rng, rng.randint(1, 40))
        assert decode(tokenizer, encode(tokenizer, text)) == text, ascii(text)


def test_round_trip_of_the_training_text(tokenizer):
    text = "".join(CORPUS)
    assert decode(tokenizer, encode(tokenizer, text)) == text


def test_end_of_text_is_a_single_token(tokenizer):
    marker = end_of_text_id(tokenizer)
    assert marker is not None
    assert encode(tokenizer, END_OF_TEXT) == [marker]
    ids = encode(tokenizer, "Exeunt." + END_OF_TEXT + "MARGERY.")
    assert ids.count(marker) == 1
    assert decode(tokenizer, ids[:ids.index(marker)]) == "Exeunt."
    assert decode(tokenizer, ids[ids.index(marker) + 1:]) == "MARGERY."


def test_token_texts_join_back_for_ascii_and_mark_split_characters(tokenizer):
    text = "TOBIAS. Then warm it, wench."
    ids = encode(tokenizer, text)
    assert "".join(token_texts(tokenizer, ids)) == text
    pieces = token_texts(tokenizer, encode(tokenizer, "😀"))  # 4 UTF-8 bytes, unseen in training
    assert len(pieces) > 1 and all("\ufffd" in piece for piece in pieces)


def test_load_tokenizer_missing_file_names_the_command(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m genmodels.text.train"):
        load_tokenizer(tmp_path / "nope.json")


def test_committed_tokenizer_round_trips_and_has_a_sensible_vocabulary():
    if not TOKENIZER_PATH.exists():
        pytest.skip(f"{TOKENIZER_PATH} not present")
    tokenizer = load_tokenizer(TOKENIZER_PATH)
    assert 4096 <= tokenizer.get_vocab_size() <= 16384
    assert encode(tokenizer, END_OF_TEXT) == [end_of_text_id(tokenizer)]
    rng = random.Random(99)
    for text in ODD_STRINGS + [random_unicode(rng, rng.randint(1, 40)) for _ in range(100)]:
        assert decode(tokenizer, encode(tokenizer, text)) == text, ascii(text)
    english = "Good morrow, my lord. I have come from the king with letters, and the queen would speak with you."
    assert len(encode(tokenizer, english)) < len(english) / 2.5  # trained merges compress English
