"""Security: only safetensors and JSON are loaded, the server listens on 127.0.0.1 with no share link, file routes
serve only what the app produced, and one user's session is never seen or changed by another."""
import ast
import http.client
import json
import os
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest
from gradio_client import Client

from tests.conftest import ROOT, served
from tests.test_app import PROMPT, call

SOURCES = sorted((ROOT / "genmodels").rglob("*.py")) + [ROOT / "app.py"]
PICKLERS = {"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "joblib", "shelve", "marshal"}
# The one place pickles are read: the anonymous pipes between the server and the training worker it started, which
# carry only what one of the two wrote (test_the_worker_reads_and_writes_only_anonymous_pipes)
PRIVATE_PIPES = {"genmodels/serving/processes.py"}


def keyword(node: ast.Call, name: str):
    """The constant value of keyword `name` in the call, or None."""
    return next((k.value.value for k in node.keywords if k.arg == name and isinstance(k.value, ast.Constant)), None)


def test_no_source_can_unpickle():
    offenders = []
    for path in [p for p in SOURCES if str(p.relative_to(ROOT)) not in PRIVATE_PIPES]:
        for node in ast.walk(ast.parse(path.read_text())):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import) and {a.name.split(".")[0] for a in node.names} & PICKLERS:
                offenders.append(where)
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PICKLERS:
                offenders.append(where)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "load":
                owner = ast.unparse(node.func.value)
                if owner == "torch" and keyword(node, "weights_only") is not True:
                    offenders.append(f"{where} torch.load without weights_only=True")
                if owner in ("np", "numpy") and keyword(node, "allow_pickle") is True:
                    offenders.append(f"{where} np.load with allow_pickle=True")
                if owner == "yaml":
                    offenders.append(f"{where} yaml.load")
    assert offenders == []


def test_the_worker_reads_and_writes_only_anonymous_pipes():
    import stat

    from genmodels.serving import processes

    worker = processes.Worker()
    try:
        ends = [worker.requests.fileno(), worker.connection.fileno()]
        assert all(stat.S_ISFIFO(os.fstat(fd).st_mode) for fd in ends)  # no socket, no file: nobody else can write
        child = worker.process.pid
        inherited = []
        for fd in os.listdir(f"/proc/{child}/fd"):
            try:
                inherited.append(os.readlink(f"/proc/{child}/fd/{fd}"))
            except FileNotFoundError:  # a file the starting interpreter closed meanwhile (an import's), not a socket
                pass
        assert not [name for name in inherited if name.startswith("socket:")]
    finally:
        worker.close()


def test_every_model_loads_with_unpickling_made_impossible():
    code = """
import pickle, torch
def refuse(*args, **kwargs):
    raise AssertionError("something tried to unpickle")
pickle.load = pickle.loads = pickle.Unpickler = torch.load = refuse
from genmodels.data.examples import load_examples, load_real_images
from genmodels.diffusion.pretrained import load_diffusion_model
from genmodels.eval.classifier import load_classifier
from genmodels.gan.pretrained import load_gan
from genmodels.pixels.sample import load_pixel_model
from genmodels.text.pretrained import load_text_model
models = [load_text_model(), load_diffusion_model(), load_gan("healthy"), load_gan("collapsed"), load_pixel_model(),
          load_classifier("cpu"), load_examples(), load_real_images()]
print("loaded", len(models))
"""
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                            env=os.environ | {"GENMODELS_DEVICE": "cpu", "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0 and "loaded 8" in result.stdout, result.stderr[-3000:]


def launch_call() -> ast.Call:
    """app.py's demo.launch(...) call."""
    tree = ast.parse((ROOT / "app.py").read_text())
    return next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "demo.launch")


def listeners(port: int) -> set[str]:
    """Addresses with a socket listening on `port`, from /proc/net/tcp and tcp6 (hex, as the kernel writes them)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.slow
def test_app_py_binds_loopback_unless_told_and_never_shares(tmp_path):
    launch = launch_call()
    assert ast.unparse(next(k.value for k in launch.keywords if k.arg == "server_name")) == \
        "os.environ.get('GRADIO_SERVER_NAME', '127.0.0.1')"
    assert keyword(launch, "share") is False
    env = dict(GRADIO_SHARE="True", GRADIO_SERVER_NAME=None)  # an explicit share=False wins over the environment
    with served(ROOT, tmp_path / "app.log", **env) as (url, _):
        port = urllib.parse.urlparse(url).port
        assert listeners(port) == {"0100007F"}  # 127.0.0.1 only: no 0.0.0.0, no IPv6
        upload = urllib.request.Request(f"{url}/gradio_api/upload", data=multipart(b"x" * 2**21),
                                        headers={"Content-Type": "multipart/form-data; boundary=gm"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(upload, timeout=30)
        assert refused.value.code in (400, 413)  # the app takes no uploads: 1 MB at most
    log = (tmp_path / "app.log").read_text()
    assert "gradio.live" not in log and "public URL" not in log, log


def multipart(content: bytes) -> bytes:
    """A multipart/form-data body (boundary 'gm') carrying one file field."""
    return (b'--gm\r\nContent-Disposition: form-data; name="files"; filename="big.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + content + b"\r\n--gm--\r\n")


def browser_call(app_url: str, api_name: str, data: list) -> list:
    """Run an event the way the page does (queue/join by fn_index, events read from queue/data); its outputs."""
    config = json.loads(urllib.request.urlopen(f"{app_url}/config", timeout=30).read())
    fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == api_name)
    session = uuid.uuid4().hex
    body = json.dumps(dict(data=data, fn_index=fn_index, session_hash=session, event_data=None)).encode()
    join = urllib.request.Request(f"{app_url}/gradio_api/queue/join", data=body,
                                  headers={"Content-Type": "application/json"})
    urllib.request.urlopen(join, timeout=30).read()
    with urllib.request.urlopen(f"{app_url}/gradio_api/queue/data?session_hash={session}", timeout=120) as stream:
        for line in stream:
            message = json.loads(line[len(b"data:"):]) if line.startswith(b"data:") else {}
            if message.get("msg") == "process_completed":
                assert message["success"], message
                return message["output"]["data"]
    raise AssertionError("the event never completed")


def status(app_url: str, path: str) -> tuple[int, bytes]:
    """GET `path` exactly as written (no normalizing of '..' or percent signs): the status and the body."""
    host = urllib.parse.urlparse(app_url)
    connection = http.client.HTTPConnection(host.hostname, host.port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    return response.status, response.read()


@pytest.mark.app
def test_file_routes_serve_what_the_app_made_and_nothing_else(app_url):
    gif = browser_call(app_url, "ui_gan_walk", ["healthy", 7, 2, 2])[0]
    made = Path(gif["path"])
    code, body = status(app_url, urllib.parse.urlparse(gif["url"]).path)
    assert code == 200 and body.startswith(b"GIF8")
    port = urllib.parse.urlparse(app_url).port
    targets = ["/etc/passwd", "../../../../../../etc/passwd", "/proc/self/environ", "app.py", str(ROOT / "app.py"),
               "assets/text/gpt.safetensors", str(ROOT / "assets/text/gpt.safetensors"), f"{made}/../../../etc/passwd",
               f"{made.parent}/../../../../{ROOT}/app.py", "..%2F..%2F..%2F..%2Fetc%2Fpasswd",
               "%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd", "%252e%252e%252f%252e%252e%252fetc%252fpasswd",
               "%2Fetc%2Fpasswd", "..\\..\\..\\..\\etc\\passwd", "file:///etc/passwd", str(made.parent),
               f"http://127.0.0.1:{port}/config", "http://169.254.169.254/latest/meta-data/"]
    routes = ["/gradio_api/file=", "/gradio_api/file/", "/file=", "/static/", "/assets/", "/gradio_api/proxy="]
    secrets = [b"root:x:0:0", b"Launch Generative Models Explorer", b"__metadata__", b"PATH="]
    for route in routes:
        for target in targets:
            code, body = status(app_url, route + urllib.parse.quote(target, safe="/%:\\"))
            assert code in (400, 403, 404, 405, 422) and not any(s in body for s in secrets), (route, target, code)


@pytest.mark.app
def test_one_session_never_sees_or_changes_another_sessions_toy_gan(app_url):
    settings = dict(dataset="ring", loss="non-saturating", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, batch_size=64,
                    latent_dim=2, hidden=32, depth=2)
    alice, bob = Client(app_url, verbose=False), Client(app_url, verbose=False)
    assert alice.predict(**settings, steps=20, api_name="/toy_gan_step")[3]["step"] == 20
    training = alice.submit(**settings | dict(dataset="grid"), steps=1000, api_name="/toy_gan_step")  # a new run
    bob_steps = [bob.predict(**settings, steps=10, api_name="/toy_gan_step")[3] for _ in range(3)]
    assert [n["step"] for n in bob_steps] == [10, 20, 30] and all(n["n_modes"] == 8 for n in bob_steps)
    alice_numbers = training.result()[3]
    assert alice_numbers["step"] == 1000 and alice_numbers["n_modes"] == 25  # none of Bob's steps, none of his data
    assert bob.predict(**settings, steps=10, api_name="/toy_gan_step")[3]["step"] == 40


@pytest.mark.app
def test_generations_in_progress_do_not_mix(app_url):
    alice, bob = Client(app_url, verbose=False), Client(app_url, verbose=False)
    asks = {"alice": dict(prompt=PROMPT, max_new_tokens=300, temperature=1.0, top_k=0, top_p=1.0, seed=11),
            "bob": dict(prompt="HAMLET.\nWhat news?\n", max_new_tokens=300, temperature=0.7, top_k=40, top_p=0.9,
                        seed=12)}
    alone = {who: call(alice, "generate_text", **ask)["completion"] for who, ask in asks.items()}
    together = {}
    threads = [threading.Thread(target=lambda who=who, client=client: together.update(
        {who: call(client, "generate_text", **asks[who])["completion"]})) for who, client in
        (("alice", alice), ("bob", bob))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone and alone["alice"] != alone["bob"]
