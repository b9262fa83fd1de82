"""Save and load models as safetensors weights plus a JSON config; no pickle anywhere."""
import functools
import json
import threading
from dataclasses import asdict
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from genmodels.paths import shown


class CheckpointError(RuntimeError):
    """A weight or config file is missing or unreadable; the message names it and how to re-create it."""


def _distinct_tensors(state: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """Split a state dict into tensors to store and {tied name: stored name} for shared storage."""
    stored, tied, owner = {}, {}, {}
    for name, tensor in state.items():
        key = (tensor.data_ptr(), tensor.shape, tensor.dtype)
        if key in owner:
            tied[name] = owner[key]
        else:
            owner[key] = name
            stored[name] = tensor
    return stored, tied


def save_checkpoint(model: torch.nn.Module, config, stem: Path | str, half: bool = True, meta: dict | None = None):
    """Write `stem`.safetensors (fp16 if `half`) and `stem`.json (the dataclass config and `meta`)."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    stored, tied = _distinct_tensors(model.state_dict())
    dtype = torch.float16 if half else torch.float32
    tensors = {k: (v.to(dtype) if v.is_floating_point() else v).detach().cpu().contiguous() for k, v in stored.items()}
    save_file(tensors, str(stem.with_suffix(".safetensors")))
    record = {"config": asdict(config), "tied": tied, "meta": meta or {}}
    stem.with_suffix(".json").write_text(json.dumps(record, indent=2) + "\n")


def read_config(stem: Path | str, config_cls, remake: str):
    """The dataclass config stored beside the weights at `stem`.json."""
    path = Path(stem).with_suffix(".json")
    try:
        record = json.loads(path.read_text())
        return config_cls(**record["config"]), record
    except FileNotFoundError:
        raise CheckpointError(f"{shown(path)} is missing; re-create it with `{remake}`") from None
    except (OSError, ValueError, KeyError, TypeError) as err:  # ValueError: bad JSON or bytes that are not UTF-8
        raise CheckpointError(f"{shown(path)} is unreadable ({err}); re-create it with `{remake}`") from None


def read_log(path: Path | str) -> dict | None:
    """A committed JSON file (training log, evaluation, report) as a dict; None when it is missing or unreadable."""
    try:
        record = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def load_checkpoint(model_cls, config_cls, stem: Path | str, remake: str, device="cpu"):
    """Build `model_cls(config)` from `stem`.json and fill it from `stem`.safetensors, in fp32, eval mode."""
    stem = Path(stem)
    config, record = read_config(stem, config_cls, remake)
    weights = stem.with_suffix(".safetensors")
    try:
        state = load_file(str(weights))
    except FileNotFoundError:
        raise CheckpointError(f"{shown(weights)} is missing; re-create it with `{remake}`") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{shown(weights)} is corrupt ({err}); re-create it with `{remake}`") from None
    model = model_cls(config)
    expected = model.state_dict()
    mismatched = [name for name, t in state.items() if name not in expected or expected[name].shape != t.shape]
    missing = set(expected) - set(state) - set(record.get("tied", {}))
    if mismatched or missing:
        raise CheckpointError(f"{shown(weights)} does not match {shown(stem.with_suffix('.json'))}; "
                              f"re-create them with `{remake}`")
    model.load_state_dict(state, strict=False)
    return model.float().to(device).eval(), record


def loaded_once(load):
    """Cache `load` per arguments and run it under a lock: concurrent first requests load a model only once and
    every request then shares it read-only."""
    cached, lock = functools.cache(load), threading.Lock()

    @functools.wraps(load)
    def load_shared(*args):
        with lock:
            return cached(*args)
    return load_shared
