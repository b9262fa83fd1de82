"""What each committed model cost to train, read from the training logs beside its weights: parameters, optimizer
steps, examples seen, wall seconds and device, so Compare can set each family's quality beside its cost."""
from dataclasses import asdict, dataclass
from pathlib import Path

from genmodels.checkpoint import read_log
from genmodels.paths import ASSETS

LOGS = {"pixels": ASSETS / "pixels/train_log.json", "diffusion": ASSETS / "diffusion/train_log.json",
        "gan": ASSETS / "gan/healthy_train_log.json", "text": ASSETS / "text/train_log.json"}
MODELS = {"pixels": "pixel transformer", "diffusion": "U-Net + text encoder", "gan": "DCGAN (G + D)",
          "text": "Shakespeare GPT"}


@dataclass(frozen=True)
class TrainingCost:
    """One model's training: its size, its optimizer steps, what a step reads, the wall time and the device."""
    family: str
    model: str
    parameters: int
    steps: int
    examples_per_step: int
    unit: str  # what an example is: "images" or "tokens"
    seconds: float
    device: str
    preset: str

    @property
    def examples(self) -> int:
        return self.steps * self.examples_per_step


def parameters(log: dict) -> int:
    """All trained parameters: a dict of parts (U-Net and text encoder, G and D) is summed."""
    params = log["params"]
    return sum(params.values()) if isinstance(params, dict) else params


def steps_taken(log: dict) -> int:
    """The last optimizer step any curve of the log reached (the text log keeps every tenth training step)."""
    curves = [log[part]["step"] for part in ("train", "val") if isinstance(log.get(part), dict)]
    return max(steps[-1] for steps in curves if steps)


def batch_of(family: str, log: dict) -> tuple[int, str]:
    """Examples per optimizer step and their unit."""
    if family == "text":
        return log["tokens_per_step"], "tokens"
    settings = log.get("settings") or log
    return settings["batch_size"], "images"


def training_cost(family: str, path: Path) -> TrainingCost | None:
    """The cost of one family's committed model, or None when its log is missing or unreadable."""
    log = read_log(path)
    if log is None:
        return None
    batch, unit = batch_of(family, log)
    return TrainingCost(family=family, model=MODELS[family], parameters=parameters(log), steps=steps_taken(log),
                        examples_per_step=batch, unit=unit, seconds=float(log["seconds"]), device=log["device"],
                        preset=log["preset"])


def training_costs(logs: dict[str, Path] = LOGS) -> dict[str, dict]:
    """Every family's training cost that has a log, as JSON (with examples seen), by family."""
    costs = {family: training_cost(family, path) for family, path in logs.items()}
    return {family: asdict(cost) | {"examples": cost.examples} for family, cost in costs.items() if cost is not None}
