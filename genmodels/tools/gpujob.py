"""Every committed model and every GPU figure from one call: `python -m genmodels.tools.gpujob --out DIR`.

1. Trains, all at once (at these sizes one model leaves most of an H200 idle), each with a time budget that its
   learning-rate schedule keeps to: the text GPT, the diffusion U-Net and text encoder, the pixel transformer,
   and the healthy then the collapsed GAN. Weights go where the app reads them (assets/).
2. On the now quiet GPU: the speed benchmarks (fast and plain paths, batching at 16 users, our DDIM loop against
   diffusers'), then each family's evaluation and assets/report.json.
3. Packs the results into a few tar files under DIR, each under 16 MiB, to unpack in the repository root:
   `for f in DIR/*.tar; do tar -xf "$f"; done`. DIR/job.json says what ran, how long, and how it ended.
   The weights are packed as soon as training ends and the measurements keep to `--deadline`, so a call that runs
   out of time still brings back the trained models.

No gradio and no network: the data travel with the call (data/shakespeare, data/fashion-mnist), and so do the
wheels of the pure-Python packages the machine lacks (data/pydeps; docs/gpu.md).
`--rehearse` runs the same job with the `tiny` presets and small evaluations, on any machine, in minutes: its
models go to data/tiny-run, which the text evaluation and the report's pixel figures read (their cost grows with the
model), and the other evaluations and benchmarks read the committed assets, which it leaves alone.
`--preset cpu` retrains the committed sizes instead of the `gpu` ones, `--families` trains, evaluates and packs only
some families (the report still covers all), and `--skip-bench` leaves out the benchmarks.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path

from genmodels.data.fashion_mnist import FETCH_HINT, find_data_dir
from genmodels.data.shakespeare import DATA_DIR as SHAKESPEARE_DIR
from genmodels.runtime import CORES

FAMILIES = ("text", "diffusion", "pixels", "gan")
PYDEPS = Path("data/pydeps")  # wheels carried to the GPU machine: diffusers (for `bench peers`) and what it needs
MiB = 2**20


def training_commands(preset: str, seconds: float) -> dict[str, list[list[str]]]:
    """Each family's training commands, run in order within a family and alongside the other families."""
    budget = ["--preset", preset, "--max-seconds", str(seconds)]
    return {
        "text": [["genmodels.text.train", *budget]],
        "diffusion": [["genmodels.diffusion.train", *budget]],
        "pixels": [["genmodels.pixels.train", *budget]],
        "gan": [["genmodels.gan.train", "--preset", preset], ["genmodels.gan.collapse", "--preset", preset]],
    }


REHEARSAL_SIZES = {  # extra arguments that make a measurement take seconds on a CPU
    "genmodels.tools.bench batching": ["--users", "2", "--tokens", "4", "--steps", "4", "--threads", "1",
                                       "--pixel-assets", "data/tiny-run/pixels"],  # the tiny pixel model
    "genmodels.tools.bench peers --only diffusion": ["--steps", "4", "--repeats", "1"],
    "genmodels.diffusion.evaluate": ["--per-class", "2", "--unconditional", "10", "--steps", "5"],
    "genmodels.gan.evaluate": ["--samples", "50", "--real", "50"],
    "genmodels.text.evaluate": ["--assets", "data/tiny-run/text"],  # the whole held-out text, on the tiny model
    "genmodels.eval.report": ["--per-class", "1", "--repeats", "1", "--diffusion-steps", "5",
                              "--pixel-assets", "data/tiny-run/pixels"],  # its tiny model: cheap steps
}


def measuring_commands(rehearse: bool, work: Path, families=FAMILIES,
                       bench: bool = True) -> list[tuple[list[str], Path]]:
    """(command, where its JSON goes) for the benchmarks (unless not `bench`), then the evaluations of `families`
    and the report, in order."""
    results = work if rehearse else Path("assets")
    device = [] if rehearse else ["--device", "cuda"]
    benches = [(["genmodels.tools.bench", name, *device], work / f"bench-{name}.json")
               for name in ("text", "diffusion", "gan", "batching")]
    benches.append((["genmodels.tools.bench", "peers", "--only", "diffusion", *device],
                    work / "bench-peers-diffusion.json"))
    evaluations = [([f"genmodels.{family}.evaluate"], results / family / "evaluation.json")
                   for family in ("text", "diffusion", "gan") if family in families]  # pixels: in the report
    commands = (benches if bench else []) + evaluations + [(["genmodels.eval.report"], results / "report.json")]
    if rehearse:
        commands = [(command + REHEARSAL_SIZES.get(" ".join(command), []), target) for command, target in commands]
    return commands


def run_logged(module_args: list[str], log: Path, timeout: float, stdout: Path | None = None,
               threads: int | None = None) -> dict:
    """Run `python -m ...` with its output appended to `log`; its stdout goes to `stdout` instead, when given, and
    is kept only when the command succeeds. `threads`: its CPU threads, unless OMP_NUM_THREADS is set already."""
    started = time.perf_counter()
    partial = stdout.with_name(stdout.name + ".partial") if stdout else None
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "TQDM_MININTERVAL": "10",
           "PYTHONPATH": os.pathsep.join(carried_packages() + [os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    if threads and "OMP_NUM_THREADS" not in os.environ:
        env["OMP_NUM_THREADS"] = str(threads)
    with open(log, "a") as err:
        err.write(f"$ python -m {' '.join(module_args)}\n")
        err.flush()
        if partial:
            partial.parent.mkdir(parents=True, exist_ok=True)
        out = open(partial, "w") if partial else err
        try:
            code = subprocess.run([sys.executable, "-m", *module_args], stdout=out, stderr=err, env=env,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            code = "timed out"
        finally:
            if partial:
                out.close()
    if partial and code == 0:
        partial.replace(stdout)
    elif partial:
        partial.unlink(missing_ok=True)
    return {"command": "python -m " + " ".join(module_args), "exit": code,
            "seconds": round(time.perf_counter() - started, 1)}


def train_all(preset: str, seconds: float, logs: Path, families=FAMILIES) -> list[dict]:
    """The training commands of `families`, the families in parallel threads, each with its share of the CPU cores
    (with torch's default of a thread per core each, trainings side by side wait on each other's threads); one
    record per command."""
    records: list[dict] = []
    share = max(1, CORES // len(families))

    def family(name: str, commands: list[list[str]]):
        for command in commands:
            records.append(run_logged(command, logs / f"train-{name}.log", timeout=seconds + 300, threads=share)
                           | {"family": name})

    threads = [threading.Thread(target=family, args=(name, commands))
               for name, commands in training_commands(preset, seconds).items() if name in families]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return records


def pack(out: Path, groups: dict[str, list[Path]]) -> list[dict]:
    """One tar per group under `out` (paths relative to the repository root); their names and sizes."""
    packed = []
    out.mkdir(parents=True, exist_ok=True)
    for name, paths in groups.items():
        files = sorted(p for path in paths if path.exists() for p in ([path] if path.is_file() else path.rglob("*"))
                       if p.is_file() and not p.name.endswith(".partial"))
        if not files:
            continue
        target, partial = out / f"{name}.tar", out / f"{name}.tar.partial"
        with tarfile.open(partial, "w") as tar:
            for file in files:
                tar.add(file, arcname=str(file))
        partial.replace(target)  # a call stopped mid-write leaves the earlier, whole tar
        size = target.stat().st_size
        packed.append({"file": target.name, "bytes": size, "files": len(files), "under_16_mib": size < 16 * MiB})
    return packed


def family_list(text: str) -> tuple[str, ...]:
    """--families: a comma-separated subset of FAMILIES, kept in FAMILIES' order."""
    names = {name.strip() for name in text.split(",") if name.strip()}
    if not names or names - set(FAMILIES):
        raise argparse.ArgumentTypeError(f"choose from {', '.join(FAMILIES)}, not {text!r}")
    return tuple(family for family in FAMILIES if family in names)


def carried_packages() -> list[str]:
    """The wheels in data/pydeps (pure-Python packages the GPU machine lacks, importable from the zip files)."""
    return [str(wheel.resolve()) for wheel in sorted(PYDEPS.glob("*.whl"))]


def check_ready() -> None:
    """Stop at once, naming what to carry, when a package or a dataset is missing."""
    for module in ("tqdm", "PIL", "safetensors", "tokenizers", "numpy"):
        if importlib.util.find_spec(module) is None:
            sys.exit(f"the package {module} is missing: carry its wheel in {PYDEPS} (docs/gpu.md)")
    if not (SHAKESPEARE_DIR / "train.txt").exists() or not (SHAKESPEARE_DIR / "val.txt").exists():
        sys.exit(f"{SHAKESPEARE_DIR}/train.txt and val.txt are missing: run `python -m genmodels.data.shakespeare`")
    if find_data_dir() is None:
        sys.exit(f"Fashion-MNIST is missing: {FETCH_HINT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="folder for the tar files and job.json")
    parser.add_argument("--train-seconds", type=float, default=330, help="each model's training time budget")
    parser.add_argument("--rehearse", action="store_true", help="tiny presets and small evaluations, any device")
    parser.add_argument("--preset", choices=("gpu", "cpu"), default="gpu", help="the training presets (not with "
                        "--rehearse, which trains the tiny ones)")
    parser.add_argument("--families", type=family_list, default=FAMILIES,
                        help=f"comma-separated families to train, evaluate and pack (default: {','.join(FAMILIES)})")
    parser.add_argument("--skip-bench", action="store_true", help="leave out the benchmarks, keep the evaluations")
    parser.add_argument("--deadline", type=float, default=540,
                        help="seconds from the start by which the measurements stop (the rest are skipped)")
    args = parser.parse_args()
    sys.path[:0] = carried_packages()
    check_ready()
    preset = "tiny" if args.rehearse else args.preset
    work = Path("out/gpujob")
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    job = {"preset": preset, "families": list(args.families), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
           "python": sys.version.split()[0]}
    started = time.perf_counter()
    job["training"] = train_all(preset, args.train_seconds, logs, args.families)
    trained = Path("data/tiny-run") if args.rehearse else Path("assets")
    groups = {family: [trained / family] for family in args.families}
    pack(args.out, groups)
    job["measuring"] = []
    for command, target in measuring_commands(args.rehearse, work, args.families, bench=not args.skip_bench):
        left = args.deadline - (time.perf_counter() - started)
        if left < 20:
            job["measuring"].append({"command": "python -m " + " ".join(command), "exit": "skipped: deadline"})
            continue
        job["measuring"].append(run_logged(command, logs / "measure.log", timeout=left, stdout=target))
    job["seconds"] = round(time.perf_counter() - started, 1)
    (work / "job.json").write_text(json.dumps(job, indent=1) + "\n")
    groups["results"] = [work] + ([] if args.rehearse else [Path("assets/report.json")])
    job["packed"] = pack(args.out, groups)
    (args.out / "job.json").write_text(json.dumps(job, indent=1) + "\n")
    print(json.dumps(job, indent=1))


if __name__ == "__main__":
    main()
