"""A classroom load test: `python -m genmodels.tools.loadtest [--users 30 --seconds 60] [--url URL] [--batching]`.

Simulated students (threads, each with its own gradio_client session, all opened before the clock starts) call
every public endpoint in a mix for a bounded time, pausing to read each answer, against a launched app (started
here on a free 127.0.0.1 port unless --url is given). Prints throughput, p50 / p95 latency and errors as JSON,
overall and per endpoint. --batching runs the same classroom twice in one run, with the batching engines off
(GENMODELS_BATCHING=0) and then on.
Needs the dev requirements (gradio_client).
"""
import argparse
import json
import os
import platform
import random
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from genmodels.paths import ASSETS, ROOT
from genmodels.runtime import device_name, percentile

PROMPTS = ["KING.\nBring me the map, and let the council wait.\n", "O gentle night, that hides the lover's face,\n",
           "FIRST CITIZEN.\nThe bread is dear,", ""]
OWN_TEXT = (ASSETS / "examples/sonnets.txt").read_text()  # the text the "Your own text" page opens with
# Endpoints that read the student's own model, and the endpoint that makes one: a student who has none calls that first
NEEDS = {"gan_manifold": "toy_gan_step", "owntext_sample": "owntext_train", "owntext_score": "owntext_train"}
IMAGE_PROMPTS = ["a sneaker", "a pair of trousers", "an ankle boot", "a handbag", "a warm winter coat", ""]


def endpoint_mix(rng: random.Random) -> list[tuple[float, str, dict]]:
    """(weight, api_name, arguments) for one student's next click; sizes are what the tabs ask by default or less."""
    seed = rng.randrange(1000)
    prompt, image_prompt = rng.choice(PROMPTS), rng.choice(IMAGE_PROMPTS)
    toy = dict(dataset="ring", loss="non-saturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=seed, batch_size=256,
               latent_dim=2, hidden=128, depth=3)
    lab = dict(dataset=rng.choice(["ring", "grid"]), points="", seed=seed, sampler="ddim", diffusion_steps=50,
               field_t=200, bins=32, temperature=1.0, x_bin=16, lr_g=1e-3, lr_d=1e-3)
    return [
        (6, "next_token", dict(prompt=prompt, temperature=0.8, top_k=0, top_p=0.95, seed=seed)),
        (3, "generate_text", dict(prompt=prompt, max_new_tokens=60, temperature=0.8, top_k=0, top_p=0.95, seed=seed)),
        (2, "continuations", dict(prompt=prompt, count=4, max_new_tokens=30, temperature=0.8, top_k=0, top_p=0.95,
                                  seed=seed)),
        (2, "score_text", dict(text=PROMPTS[0] * 3)),
        (4, "diffuse", dict(prompt=image_prompt, guidance=3.0, steps=20, sampler="DDIM", eta=0.0, seed=seed,
                            count=4)),
        (2, "forward_process", dict(example=seed % 10, t=rng.randrange(1000), seed=seed)),
        (1, "compare_guidance", dict(prompt=image_prompt, steps=10, seed=seed, count=2)),
        (1, "interpolate_noise", dict(prompt=image_prompt, seed_a=seed, seed_b=seed + 1, frames=4, steps=10,
                                      guidance=3.0)),
        (5, "gan_sample", dict(kind=rng.choice(["healthy", "collapsed"]), seed=seed, count=24)),
        (3, "gan_interpolate", dict(kind="healthy", seed_a=seed, index_a=0, seed_b=seed + 1, index_b=0, frames=12)),
        (1, "gan_discriminate", dict(kind="healthy", count=64, seed=seed)),
        (1, "pixels_sample", dict(label="Trouser", count=1, temperature=1.0, top_k=0, top_p=1.0, seed=seed)),
        (0.5, "race", dict(label="Sneaker", diffusion_steps=10, seed=seed)),
        (1, "compare_report", dict()),
        (0.5, "training_timeline", dict(family=rng.choice(["pixels", "diffusion"]), snapshot=rng.randint(1, 12))),
        (1, "attention", dict(prompt=prompt, layer=rng.randint(1, 4), head=rng.randint(1, 4))),
        (1, "logit_lens", dict(prompt=prompt, top_n=5)),
        (1, "pixel_attention", dict(label="Trouser", image=[[rng.randrange(256) for _ in range(28)] for _ in range(28)],
                                    pixel=rng.randint(1, 784))),
        (1, "noise_prediction", dict(example=seed % 10, t=rng.randrange(1000), seed=seed)),
        (0.5, "diffusion_map", dict(prompt=image_prompt, comparison=rng.choice(["seeds", "guidance", "sampler"]),
                                    guidance=3.0, sampler="DDIM", steps=20, seed=seed)),
        (1, "gan_manifold", dict(grid_lines=20)),  # a student who has not trained yet trains first (student())
        (2, "toy_gan_step", dict(toy, steps=50)),
        (0.5, "toy_gan_step_d", toy),
        (0.5, "toy_gan_step_g", toy),
        (2, "lab_step", dict(lab, families=rng.choice([["diffusion", "autoregressive", "gan"], ["gan"]]), steps=100)),
        (0.25, "lab_race", dict(lab, race_steps=300)),
        (0.5, "lab_reset", lab),
        (0.5, "lab_point", dict(points="", x=round(rng.uniform(-2, 2), 2), y=round(rng.uniform(-2, 2), 2))),
        (0.5, "owntext_train", dict(text=OWN_TEXT, seconds=5, seed=seed)),  # the page offers 5 to 120 s
        (1, "owntext_sample", dict(prompt="Love", max_new_tokens=100, temperature=0.8, top_k=0, top_p=0.95,
                                   seed=seed)),
        (0.5, "owntext_score", dict(text="Shall I compare thee to a winter's night?")),
    ]


def connected(url: str, users: int, timeout: float = 120) -> list:
    """One gradio_client session per student, opened all at once, as a class loads the page before its first click.
    A session's set-up (the app's config and API description, fetched and parsed in this process) is no request's
    latency, yet inside the first timed call it was counted as one (docs/performance.md).

    Every session shares one TLS context: given none, httpx builds one for each request (gradio_client opens a
    client per call and per stream), loading the certificate bundle each time, and that was a third of this
    process's CPU, taken from the app it measures on the same machine (docs/performance.md)."""
    import certifi
    from gradio_client import Client

    deadline = time.monotonic() + timeout
    tls = ssl.create_default_context(cafile=certifi.where())  # what httpx builds, with certificates checked

    def connect(_):
        while time.monotonic() < deadline:
            try:
                return Client(url, verbose=False, ssl_verify=tls)  # handed on to httpx as its `verify`
            except Exception:  # noqa: BLE001 - a busy server can time out a page load: try again until the deadline
                time.sleep(1)
        return None

    with ThreadPoolExecutor(users) as pool:
        clients = list(pool.map(connect, range(users)))
    if None in clients:
        raise RuntimeError(f"{clients.count(None)} of {users} students could not open the app in {timeout:.0f} s")
    return clients


def student(client, deadline: float, think_seconds: float, seed: int, calls: list, lock: threading.Lock) -> None:
    """Click endpoints through `client` until the deadline, one at a time, resting about `think_seconds` between
    answers."""
    rng = random.Random(seed)
    trained = set()
    while time.monotonic() < deadline:
        weights, names, arguments = zip(*endpoint_mix(rng))
        index = rng.choices(range(len(names)), weights)[0]
        if names[index] in NEEDS and NEEDS[names[index]] not in trained:  # it reads the student's own model
            index = names.index(NEEDS[names[index]])
        trained.add(names[index])
        started = time.monotonic()
        try:
            client.predict(**arguments[index], api_name=f"/{names[index]}")
            error = None
        except Exception as err:  # noqa: BLE001 - every failure is counted and reported, never raised
            error = f"{type(err).__name__}: {str(err)[:200]}"
        with lock:
            calls.append({"endpoint": names[index], "seconds": time.monotonic() - started, "error": error,
                          "finished": time.monotonic()})
        if think_seconds:
            time.sleep(rng.uniform(0.5, 1.5) * think_seconds)


def warm_up(url: str) -> None:
    """Call every endpoint once, so the timed run measures serving, not each model's first load."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    mix = endpoint_mix(random.Random(0))
    for _, name, arguments in sorted(mix, key=lambda entry: entry[1] in NEEDS):  # after what they need
        client.predict(**arguments, api_name=f"/{name}")


def summarize(calls: list[dict], seconds: float) -> dict:
    """Throughput, latency percentiles and errors, overall and per endpoint."""
    latencies = [c["seconds"] for c in calls if not c["error"]]
    per_endpoint = {}
    for name in sorted({c["endpoint"] for c in calls}):
        mine = [c["seconds"] for c in calls if c["endpoint"] == name and not c["error"]]
        per_endpoint[name] = {"calls": sum(c["endpoint"] == name for c in calls),
                              "p50_s": round(percentile(mine, 50), 3), "p95_s": round(percentile(mine, 95), 3)}
    errors = [c for c in calls if c["error"]]
    return {"requests": len(calls), "requests_per_second": round(len(latencies) / seconds, 2),
            "p50_s": round(percentile(latencies, 50), 3), "p95_s": round(percentile(latencies, 95), 3),
            "errors": len(errors), "error_samples": sorted({e["error"] for e in errors})[:5],
            "per_endpoint": per_endpoint}


def drive(url: str, users: int, seconds: float, think_seconds: float) -> dict:
    """Run `users` students against `url` for `seconds`, timed from once all are connected; requests still running
    at the deadline are waited for."""
    calls, lock = [], threading.Lock()
    clients = connected(url, users)
    started = time.monotonic()
    threads = [threading.Thread(target=student, args=(clients[i], started + seconds, think_seconds, i, calls, lock),
                                daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    done_in_time = [c for c in calls if c["finished"] <= started + seconds]
    result = summarize(calls, elapsed)
    result |= {"users": users, "seconds": round(elapsed, 1), "think_seconds": think_seconds,
               "completed_within_the_window": len(done_in_time)}
    return result


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def launched_app(root: Path = ROOT, log: Path | None = None, timeout: float = 120, **env):
    """`python app.py` in `root` on a free port, `env` added to its environment (None removes a variable) and its
    output written to `log` (else dropped): yields (url, process) once it answers, and stops it afterwards."""
    port = free_port()
    env = {name: value for name, value in (os.environ | {"GRADIO_SERVER_PORT": str(port)} | env).items()
           if value is not None}
    out = open(log, "w") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=root, env=env, stdout=out, stderr=subprocess.STDOUT)
    finally:
        if log:
            out.close()
    url = f"http://127.0.0.1:{port}"
    output = (lambda: "\n" + log.read_text()[-3000:]) if log else (lambda: "")
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"app.py exited with {process.returncode}:{output()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"app.py did not answer in {timeout:.0f} s:{output()}")
            try:
                urllib.request.urlopen(f"{url}/config", timeout=5)
                break
            except OSError:
                time.sleep(0.5)
        yield url, process
    finally:
        process.terminate()  # app.py exits cleanly on SIGTERM
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def batching_comparison(users: int, seconds: float, think_seconds: float) -> dict:
    """The classroom mix with the batching engines off, then on, each on a freshly launched app."""
    runs = {}
    for mode, flag in (("engines_off", "0"), ("engines_on", "1")):
        with launched_app(GENMODELS_BATCHING=flag) as (url, _):
            warm_up(url)
            runs[mode] = drive(url, users, seconds, think_seconds)
    return {"users": users, "seconds": seconds, **runs,
            "throughput_ratio": round(runs["engines_on"]["requests_per_second"]
                                      / max(runs["engines_off"]["requests_per_second"], 1e-9), 2)}


def machine() -> dict:
    """Where the load test ran."""
    import torch

    return {"machine": device_name(torch.device("cpu")), "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=30, help="simulated students")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--think", type=float, default=2.0, help="mean seconds a student reads an answer")
    parser.add_argument("--url", help="drive this running app instead of launching one")
    parser.add_argument("--batching", action="store_true", help="the same run with the engines off, then on")
    args = parser.parse_args()
    if args.batching:
        result = batching_comparison(args.users, args.seconds, args.think)
    elif args.url:
        result = drive(args.url, args.users, args.seconds, args.think)
    else:
        with launched_app() as (url, _):
            warm_up(url)
            result = drive(url, args.users, args.seconds, args.think)
    print(json.dumps(result | machine(), indent=2))


if __name__ == "__main__":
    main()
