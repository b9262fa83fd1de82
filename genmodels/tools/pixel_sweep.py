"""Which pixel transformer learns most in 40 minutes of a 2-core CPU: `python -m genmodels.tools.pixel_sweep NAME`.

Issue 20 asks for a pixel model trained for about as long as the diffusion model (43 minutes on the 2-core CPU) that
the judge recognises as the asked class at least 70% of the time. Each candidate here trains for the steps that its
size and batch take in 40 minutes of training on the 2-core Xeon (seconds per step measured there on 2026-12-04,
evaluations not counted), on whatever device runs this script, so a GPU can try them all in minutes with the
outcome of 40 CPU minutes each. The last candidate runs the committed size for about two hours' worth, to show
what more CPU time would buy. Each one is then judged as `eval.report` judges the committed model.
Writes out/pixel-sweep/NAME/ (weights, train log, timeline, evaluation.json).
"""
import argparse
import json
from pathlib import Path

from genmodels.eval.report import measure_pixels, real_features, tidy
from genmodels.pixels.model import PixelConfig
from genmodels.pixels.train import PRESETS, TrainPreset, train

CPU_SECONDS_PER_STEP = {"4x128-b16": 0.644, "6x128-b16": 0.923, "4x96-b32": 0.985, "6x192-b16": 1.627}
CPU_MINUTES = 40
CANDIDATES = {
    "4x128-b16": TrainPreset(PixelConfig(n_layer=4, n_head=4, n_embd=128), batch_size=16, learning_rate=1.5e-3),
    "6x128-b16": TrainPreset(PixelConfig(n_layer=6, n_head=4, n_embd=128), batch_size=16, learning_rate=1.5e-3),
    "4x96-b32": TrainPreset(PixelConfig(n_layer=4, n_head=4, n_embd=96), batch_size=32, learning_rate=2e-3),
    "6x192-b16": TrainPreset(PixelConfig(n_layer=6, n_head=6, n_embd=192), batch_size=16, learning_rate=1e-3),
    "4x128-b16-2h": TrainPreset(PixelConfig(n_layer=4, n_head=4, n_embd=128), batch_size=16, learning_rate=1.5e-3,
                                steps=11_000),
}
OUT = Path("out/pixel-sweep")


def planned_steps(name: str) -> int:
    """The steps the candidate takes in CPU_MINUTES on the 2-core CPU (its own step count when it has no figure)."""
    if name not in CPU_SECONDS_PER_STEP:
        return CANDIDATES[name].steps
    return int(CPU_MINUTES * 60 / CPU_SECONDS_PER_STEP[name])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("name", choices=sorted(CANDIDATES))
    parser.add_argument("--per-class", type=int, default=50, help="judged samples of each class")
    parser.add_argument("--steps", type=int, help="override the planned steps (a rehearsal)")
    args = parser.parse_args()
    steps = args.steps or planned_steps(args.name)
    PRESETS[args.name] = CANDIDATES[args.name]
    out_dir = OUT / args.name
    log = train(args.name, out_dir, steps)
    real, floor = real_features(args.per_class)
    figures = measure_pixels(args.per_class, real, repeats=1, asset_dir=out_dir)
    result = {"candidate": args.name, "steps": steps, "cpu_seconds_per_step": CPU_SECONDS_PER_STEP.get(args.name),
              "params": log["params"], "device": log["device"], "train_seconds": log["seconds"],
              "frechet_floor": floor, **figures}
    (out_dir / "evaluation.json").write_text(json.dumps(tidy(result), indent=1) + "\n")
    print(json.dumps(tidy(result)))


if __name__ == "__main__":
    main()
