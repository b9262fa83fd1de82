"""Score the committed GPT on the held-out plays (Hamlet, The Tempest): `python -m genmodels.text.evaluate`.

Prints one JSON object: bits per character, nats per token, characters per token, parameters.
Every play is scored from its start token, texts longer than the context in windows that keep
half a context of history, so every character of the validation text is counted once.
"""
import argparse
import json
import math
from pathlib import Path

from genmodels.data.shakespeare import DATA_DIR, load_split
from genmodels.runtime import timer
from genmodels.text.pretrained import ASSET_DIR, load_text_model
from genmodels.text.sampling import token_surprisals
from genmodels.text.tokenizer import END_OF_TEXT, encode


def evaluate(text: str, asset_dir: Path = ASSET_DIR) -> dict:
    """Bits per character and nats per token of `text` (works opened by the end-of-text marker)."""
    loaded = load_text_model(asset_dir)
    works = [w for w in text.split(END_OF_TEXT) if w]
    total_bits, tokens, chars = 0.0, 0, 0
    with timer(loaded.model.lm_head.weight.device) as elapsed:
        for work in works:
            ids = encode(loaded.tokenizer, work)
            total_bits += token_surprisals(loaded.model, ids, loaded.start_id).sum().item()
            tokens += len(ids)
            chars += len(work)
    return {
        "val_bits_per_char": round(total_bits / chars, 4),
        "val_nats_per_token": round(total_bits * math.log(2) / tokens, 4),
        "chars_per_token": round(chars / tokens, 4),
        "params": loaded.model.num_params(),
        "val_tokens": tokens,
        "val_chars": chars,
        "works": len(works),
        "context": loaded.model.config.block_size,
        "device": str(loaded.model.lm_head.weight.device),
        "seconds": round(elapsed.seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR)
    parser.add_argument("--assets", type=Path, default=ASSET_DIR)
    args = parser.parse_args()
    print(json.dumps(evaluate(load_split("val", args.data_dir), args.assets)))


if __name__ == "__main__":
    main()
