"""Every public endpoint under hostile input (hypothesis): wrong types, NaN and infinities, huge and negative numbers,
empty and 1 MB strings, random Unicode and control characters. Each call ends in a well-formed result or a clear
error message, no traceback or file path reaches the client, and the server keeps answering correctly."""
import json
import math
import os
import urllib.request

import pytest
from gradio_client.exceptions import AppError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.test_app import call

pytestmark = pytest.mark.app
CI = os.environ.get("CI", "").lower() == "true"
PER_ENDPOINT = 9 if CI else 36  # 127 generated calls under CI=true (about 40 s on 2 CPU cores), 505 in the full run
LEAKS = ("Traceback", 'File "', "/work/", "site-packages", '.py"', ".py'", str(ROOT))
GENERIC = "has not enabled verbose error reporting"  # what Gradio says when a handler crashes instead of gr.Error
MAX_MESSAGE = 500  # a clear message is a sentence or two, not an echo of the input
# Cheap valid arguments for every public endpoint, in the endpoint's order. A call replaces any of them with
# hostile values; one that keeps them all valid finishes within a second or two.
CHEAP = {
    "next_token": dict(prompt="KING.\n", temperature=0.8, top_k=0, top_p=0.95, seed=0),
    "generate_text": dict(prompt="KING.\n", max_new_tokens=2, temperature=0.8, top_k=0, top_p=0.95, seed=0),
    "continuations": dict(prompt="KING.\n", count=2, max_new_tokens=2, temperature=0.8, top_k=0, top_p=0.95,
                          seed=0),
    "score_text": dict(text="To be, or not to be"),
    "attention": dict(prompt="KING.\n", layer=1, head=1),
    "logit_lens": dict(prompt="KING.\n", top_n=5),
    "pixel_attention": dict(label="Bag", image=[[0] * 28] * 28, pixel=30),
    "diffuse": dict(prompt="a sneaker", guidance=3.0, steps=2, sampler="DDIM", eta=0.0, seed=0, count=1),
    "forward_process": dict(example=7, t=500, seed=0),
    "compare_guidance": dict(prompt="a bag", steps=1, seed=0, count=1),
    "interpolate_noise": dict(prompt="a dress", seed_a=0, seed_b=1, frames=2, steps=1, guidance=3.0),
    "noise_prediction": dict(example=7, t=500, seed=0),
    "diffusion_map": dict(prompt="a bag", comparison="seeds", guidance=3.0, sampler="DDIM", steps=2, seed=0),
    "pixels_sample": dict(label="Bag", count=1, temperature=1.0, top_k=0, top_p=1.0, seed=0, guidance=1.0),
    "race": dict(label="Sneaker", diffusion_steps=1, seed=0),
    "compare_report": {},
    "training_timeline": dict(family="pixels", snapshot=1),
    "gan_sample": dict(kind="healthy", seed=0, count=2),
    "gan_interpolate": dict(kind="collapsed", seed_a=0, index_a=0, seed_b=1, index_b=3, frames=2),
    "gan_discriminate": dict(kind="healthy", count=4, seed=0),
    "toy_gan_step": dict(dataset="ring", loss="minimax", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, steps=10,
                         batch_size=16, latent_dim=2, hidden=8, depth=1),
    "toy_gan_step_d": dict(dataset="ring", loss="minimax", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, batch_size=16,
                           latent_dim=2, hidden=8, depth=1),
    "toy_gan_step_g": dict(dataset="ring", loss="minimax", lr_g=1e-3, lr_d=1e-3, d_steps=1, seed=0, batch_size=16,
                           latent_dim=2, hidden=8, depth=1),
    "gan_manifold": dict(grid_lines=20),  # this session's run: a clear "train it first" until toy_gan_step ran
    "lab_step": dict(dataset="ring", points="", seed=0, families=["gan"], steps=10, sampler="ddim",
                     diffusion_steps=2, field_t=200, bins=8, temperature=1.0, x_bin=3, lr_g=1e-3, lr_d=1e-3),
    "lab_race": dict(dataset="custom", points="0,0", seed=0, sampler="ddim", diffusion_steps=2, field_t=200, bins=8,
                     temperature=1.0, x_bin=3, lr_g=1e-3, lr_d=1e-3, race_steps=50),
    "lab_reset": dict(dataset="ring", points="", seed=0, sampler="ddim", diffusion_steps=2, field_t=200, bins=8,
                      temperature=1.0, x_bin=3, lr_g=1e-3, lr_d=1e-3),
    "lab_point": dict(points="1,1", x=2.0, y=0.5),
    "owntext_train": dict(text="Twinkle, twinkle, little star. " * 8, seconds=1, seed=0),
    "owntext_sample": dict(prompt="Twinkle", max_new_tokens=2, temperature=0.8, top_k=0, top_p=0.95, seed=0),
    "owntext_score": dict(text="Twinkle, twinkle"),  # this session's model: a clear "train first" until it has one
}
LISTS = {"image", "families"}  # arguments that are lists when valid
SIGNED = {"x", "y"}  # arguments that may be negative (a point of the 2-D lab's plane)
RESULT_KEYS = {"next_token": {"text", "token", "candidates"}, "generate_text": {"completion", "tokens"},
               "continuations": {"samples"}, "score_text": {"tokens", "bits_per_char"}, "diffuse": {"images", "judge"},
               "attention": {"tokens", "matrix", "last_token", "flow"}, "logit_lens": {"tokens", "layers"},
               "pixel_attention": {"layers", "mean", "probs"},
               "forward_process": {"x_t", "x0_pred"}, "compare_guidance": {"scales", "images"},
               "interpolate_noise": {"images"}, "pixels_sample": {"images"}, "race": {"gan", "diffusion", "pixels"},
               "compare_report": {"command", "date"}, "training_timeline": {"step", "images", "curve"},
               "gan_sample": {"images", "p_real"},
               "gan_interpolate": {"linear", "spherical"}, "gan_discriminate": {"real", "generated"},
               "noise_prediction": {"correlation", "curve"}, "diffusion_map": {"paths", "projection"},
               "gan_manifold": {"axis", "points"}, "lab_point": {"points"}}
OWNTEXT_NUMBERS = {"owntext_train": {"step", "train_bpc", "heldout_bpc", "sample"},
                   "owntext_sample": {"completion", "characters"}, "owntext_score": {"bits_per_char"}}
TOY_VIEWS = 5  # the live 2-D GAN's steps: the plane, the curves, the summary, the numbers and the manifold
LAB_VIEWS = 11  # the 2-D lab's training endpoints answer with every view: figures, the table, then the numbers

# Numbers that are out of range for every input, or cheap when they happen to be valid: no whole number from 1 to
# a million (that is where steps, tokens and images get expensive), everything else including NaN and infinities.
NUMBERS = st.one_of(st.integers(max_value=0), st.integers(min_value=10**6), st.integers(min_value=10**300),
                    st.floats().filter(lambda x: not 1 <= x < 1e6), st.sampled_from([math.nan, math.inf, -math.inf]))
NUMERIC_TEXT = st.sampled_from(["NaN", "nan", "inf", "-Infinity", "1e400", "-0", "0x1f", "3.5", "١٢", " 7 ", "", " "])
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()))  # every code point: controls, lone surrogates
LONG_TEXT = st.builds(lambda char, n: char * n, st.characters(codec=None), st.sampled_from([20_001, 2**20]))
WRONG_TYPES = st.one_of(st.none(), st.booleans(), st.lists(st.integers() | st.text(max_size=3), max_size=3),
                        st.dictionaries(st.text(max_size=3), st.integers(), max_size=2), st.just([[[]]]))
HOSTILE = st.one_of(NUMBERS, NUMERIC_TEXT, ANY_TEXT, LONG_TEXT, WRONG_TYPES)


def hostile_arguments(api: str) -> st.SearchStrategy:
    """The endpoint's cheap arguments, in its order, up to three of them swapped for hostile values (one bad value
    reaches each check; several at once test that one of them is reported)."""
    cheap = CHEAP[api]
    bad = st.sets(st.sampled_from(list(cheap)), max_size=3) if cheap else st.just(set())
    return bad.flatmap(lambda names: st.fixed_dictionaries(
        {name: HOSTILE if name in names else st.just(value) for name, value in cheap.items()})).map(
        lambda args: {name: args[name] for name in cheap})


def must_fail(args: dict) -> bool:
    """Whether some argument is invalid for every input: a list (but an image), dict or bool, a non-finite or a
    negative number."""
    return any((isinstance(v, (list, dict, bool)) and name not in LISTS)
               or (isinstance(v, float) and not math.isfinite(v))
               or (isinstance(v, (int, float)) and not isinstance(v, bool) and v < 0 and name not in SIGNED)
               for name, v in args.items())


def json_safe(args: dict) -> bool:
    """Whether gradio_client can send the arguments (it refuses NaN, infinities and lone surrogates)."""
    try:
        json.dumps(args, allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeEncodeError):
        return False
    return True


def raw_outcome(app_url: str, api: str, args: dict) -> tuple[str, object]:
    """POST the arguments as JSON (NaN, Infinity and \\ud800 escapes allowed) to the REST API and read the events."""
    body = json.dumps({"data": list(args.values())}).encode()
    request = urllib.request.Request(f"{app_url}/gradio_api/call/{api}", data=body,
                                     headers={"Content-Type": "application/json"})
    event_id = json.loads(urllib.request.urlopen(request, timeout=60).read())["event_id"]
    stream = urllib.request.urlopen(f"{app_url}/gradio_api/call/{api}/{event_id}", timeout=300).read().decode()
    event, data = [line.split(": ", 1)[1] for line in stream.strip().splitlines()[-2:]]
    if event == "complete":
        values = json.loads(data)
        return "result", values[0] if len(values) == 1 else tuple(values)
    return "error", (json.loads(data) or {}).get("error") or ""


def outcome(client, app_url: str, api: str, args: dict) -> tuple[str, object]:
    """('result', value) or ('error', message): through gradio_client, or the REST API for what it cannot send."""
    if not json_safe(args):
        return raw_outcome(app_url, api, args)
    try:
        return "result", call(client, api, **args)
    except AppError as err:
        return "error", str(err)


def check(api: str, args: dict, kind: str, value) -> None:
    """A well-formed result or a short, deliberate error message; nothing from the server's insides."""
    shown = json.dumps(value, default=str)
    if not any(leak in json.dumps(args, default=str) for leak in LEAKS):  # else the input itself may be echoed
        assert not [leak for leak in LEAKS if leak in shown], (api, args, shown[:300])
    if kind == "error":
        assert value and GENERIC not in value, f"{api} crashed on {args!r:.300}: {value!r}"
        assert len(value) <= MAX_MESSAGE, (api, value[:MAX_MESSAGE * 2])
        return
    assert not must_fail(args), f"{api} accepted {args!r:.300}"
    if api == "toy_gan_step":
        assert len(value) == TOY_VIEWS and value[3]["step"] >= 10
    elif api in ("toy_gan_step_d", "toy_gan_step_g"):
        assert len(value) == TOY_VIEWS and value[3]["step"] + value[3]["d_updates"] >= 1
    elif api.startswith("lab_") and api != "lab_point":
        assert len(value) == LAB_VIEWS and set(value[-1]["families"]) == {"diffusion", "autoregressive", "gan"}
    elif api.startswith("owntext_"):  # the page's views, then the numbers
        assert OWNTEXT_NUMBERS[api] <= set(value[-1]), (api, shown[:300])
    else:
        assert isinstance(value, dict) and RESULT_KEYS[api] <= set(value), (api, shown[:300])


def test_every_public_endpoint_survives_hostile_input(client, app_url):
    api = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert {name.lstrip("/"): [p["parameter_name"] for p in e["parameters"]] for name, e in api.items()} == {
        name: list(args) for name, args in CHEAP.items()}  # a new endpoint must be added above
    normal = CHEAP["next_token"] | dict(temperature=0)
    reference, made = call(client, "next_token", **normal), []
    for api in sorted(CHEAP):
        @settings(max_examples=PER_ENDPOINT, deadline=None, derandomize=CI, database=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
        @given(hostile_arguments(api))
        def hostile_call(args):
            check(api, args, *outcome(client, app_url, api, args))
            made.append(api)
            if len(made) % 10 == 0:  # the server still answers a normal request, and answers it the same way
                assert call(client, "next_token", **normal) == reference

        hostile_call()
    assert len(made) >= PER_ENDPOINT * (len(CHEAP) - 1), len(made)  # compare_report takes no arguments: one call
    assert call(client, "next_token", **normal) == reference
