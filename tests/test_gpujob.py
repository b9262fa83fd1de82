"""The one-call GPU job: its pieces, and a whole rehearsal (tiny presets, CPU) in a scratch copy of the repository."""
import argparse
import json
import random
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from genmodels.text.tokenizer import END_OF_TEXT
from genmodels.tools.gpujob import FAMILIES, family_list, measuring_commands, pack, run_logged
from tests.test_faults import digests
from tests.test_train_tiny import make_play

REPO = Path(__file__).resolve().parent.parent


def test_run_logged_keeps_stdout_only_on_success(tmp_path):
    log, target = tmp_path / "job.log", tmp_path / "result" / "out.json"
    ok = run_logged(["json.tool", "--help"], log, timeout=60, stdout=target)
    assert ok["exit"] == 0 and "usage" in target.read_text()
    failed = run_logged(["json.tool", "--no-such-flag"], log, timeout=60, stdout=tmp_path / "bad.json")
    assert failed["exit"] != 0 and not (tmp_path / "bad.json").exists() and not list(tmp_path.glob("*.partial"))
    assert "$ python -m json.tool --no-such-flag" in log.read_text() and "unrecognized" in log.read_text()
    slow = run_logged(["http.server", "0"], log, timeout=1)
    assert slow["exit"] == "timed out"


def test_pack_writes_one_tar_per_group_with_repository_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "assets" / "text").mkdir(parents=True)
    (tmp_path / "assets" / "text" / "gpt.json").write_text("{}")
    (tmp_path / "assets" / "text" / "x.json.partial").write_text("half")
    packed = pack(tmp_path / "out", {"text": [Path("assets/text")], "empty": [Path("nothing/here")]})
    assert [p["file"] for p in packed] == ["text.tar"] and packed[0]["under_16_mib"]
    with tarfile.open(tmp_path / "out" / "text.tar") as tar:
        assert tar.getnames() == ["assets/text/gpt.json"]


def test_families_and_skip_bench_choose_the_measurements(tmp_path):
    chosen = measuring_commands(False, tmp_path, family_list("pixels, text"), bench=False)
    assert [" ".join(command) for command, _ in chosen] == ["genmodels.text.evaluate", "genmodels.eval.report"]
    assert [target for _, target in chosen] == [Path("assets/text/evaluation.json"), Path("assets/report.json")]
    assert len(measuring_commands(True, tmp_path)) == 9  # by default: five benchmarks, three evaluations, the report
    assert family_list("gan,text") == ("text", "gan")
    with pytest.raises(argparse.ArgumentTypeError):
        family_list("text,vae")


@pytest.mark.slow
def test_rehearsal_runs_every_step_and_packs_the_results(tmp_path):
    scratch = tmp_path / "repo"
    for name in ("genmodels", "assets", "tests"):
        shutil.copytree(REPO / name, scratch / name, ignore=shutil.ignore_patterns("__pycache__"))
    corpus = scratch / "data" / "shakespeare"
    corpus.mkdir(parents=True)
    rng = random.Random(0)
    (corpus / "train.txt").write_text("".join(END_OF_TEXT + make_play(rng, 300) for _ in range(3)))
    (corpus / "val.txt").write_text(END_OF_TEXT + make_play(rng, 200))
    before = digests(scratch / "assets")
    done = subprocess.run([sys.executable, "-m", "genmodels.tools.gpujob", "--rehearse", "--out", str(tmp_path / "out"),
                           "--train-seconds", "10"], cwd=scratch, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    job = json.loads((tmp_path / "out" / "job.json").read_text())
    assert len(job["training"]) == 5 and len(job["measuring"]) == 9
    assert all(step["exit"] == 0 for step in job["training"] + job["measuring"]), job
    assert {p["file"] for p in job["packed"]} == {f"{name}.tar" for name in (*FAMILIES, "results")}
    assert all(p["under_16_mib"] for p in job["packed"])
    assert digests(scratch / "assets") == before  # a rehearsal leaves the committed models alone
    unpacked = tmp_path / "unpacked"
    for tar in (tmp_path / "out").glob("*.tar"):
        with tarfile.open(tar) as archive:
            archive.extractall(unpacked, filter="data")
    for path in ("data/tiny-run/text/gpt.safetensors", "data/tiny-run/diffusion/unet.safetensors",
                 "data/tiny-run/pixels/pixel_transformer.safetensors", "data/tiny-run/gan/collapsed_generator.json",
                 "data/tiny-run/text/timeline.json", "data/tiny-run/diffusion/timeline.png",
                 "data/tiny-run/pixels/timeline.png",
                 "out/gpujob/report.json", "out/gpujob/text/evaluation.json", "out/gpujob/logs/train-text.log"):
        assert (unpacked / path).is_file(), path
    batching = json.loads((unpacked / "out/gpujob/bench-batching.json").read_text())
    assert batching["users"] == 2 and batching["pixel_assets"] == "data/tiny-run/pixels"  # its tiny model draws
    assert all(batching[family]["batched_over_one_after_another"] > 0 for family in ("text", "diffusion", "pixels"))
    text = json.loads((unpacked / "out/gpujob/bench-text.json").read_text())
    assert text["generation_tokens_per_second"] > 0 and text["fast_path"].startswith("plain")
