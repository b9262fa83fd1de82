"""The public API through gradio_client against a launched app: results, reproducibility, bad input."""
import json
import math
import urllib.error
import urllib.request

import pytest
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.app

PROMPT = "KING.\nBring me the map, and let the council wait.\n\nQUEEN.\n"


def call(client, api_name, **kwargs):
    return client.predict(api_name=f"/{api_name}", **kwargs)


def assert_clean_error(excinfo, *words):
    """The error reached the client as a readable message: no traceback, no file path."""
    message = str(excinfo.value)
    assert "Traceback" not in message and ".py" not in message and "/work" not in message
    for word in words:
        assert word.lower() in message.lower(), message


def test_next_token_returns_candidates_and_is_reproducible(client):
    first = call(client, "next_token", prompt=PROMPT, temperature=0.9, top_k=0, top_p=0.9, seed=7)
    again = call(client, "next_token", prompt=PROMPT, temperature=0.9, top_k=0, top_p=0.9, seed=7)
    assert first == again
    assert first["text"] == PROMPT + first["token"]
    probs = [c["model_prob"] for c in first["candidates"]]
    assert probs[:20] == sorted(probs[:20], reverse=True)
    assert sum(c["sampled"] for c in first["candidates"]) == 1
    assert 1 <= first["candidates_left"] <= 4096
    assert all(c["adjusted_prob"] == 0 for c in first["candidates"] if not c["kept"])
    assert sum(c["adjusted_prob"] for c in first["candidates"]) <= 1 + 1e-6


def test_temperature_zero_is_greedy(client):
    result = call(client, "next_token", prompt=PROMPT, temperature=0, top_k=0, top_p=1, seed=123)
    assert result["candidates_left"] == 1
    assert result["candidates"][0]["sampled"] and result["candidates"][0]["adjusted_prob"] == 1.0
    other_seed = call(client, "next_token", prompt=PROMPT, temperature=0, top_k=0, top_p=1, seed=999)
    assert other_seed["token_id"] == result["token_id"]


def test_top_k_and_top_p_limit_candidates(client):
    top_k = call(client, "next_token", prompt=PROMPT, temperature=1, top_k=3, top_p=1, seed=0)
    assert top_k["candidates_left"] == 3 and sum(c["kept"] for c in top_k["candidates"]) == 3
    tiny_p = call(client, "next_token", prompt=PROMPT, temperature=1, top_k=0, top_p=1e-6, seed=0)
    assert tiny_p["candidates_left"] == 1


def test_generate_text_streams_tokens_with_probabilities(client):
    result = call(client, "generate_text", prompt=PROMPT, max_new_tokens=30, temperature=0.8, top_k=0, top_p=0.95,
                  seed=3)
    assert len(result["tokens"]) == 30
    assert result["completion"] == "".join(t["token"] for t in result["tokens"]) or "\ufffd" in "".join(
        t["token"] for t in result["tokens"])
    assert all(0 < t["adjusted_prob"] <= 1 for t in result["tokens"])
    assert result["tokens_per_second"] > 0


def test_continuations_are_each_reproducible_by_seed(client):
    result = call(client, "continuations", prompt=PROMPT, count=4, max_new_tokens=12, temperature=1.0, top_k=0,
                  top_p=1.0, seed=10)
    assert [s["seed"] for s in result["samples"]] == [10, 11, 12, 13]
    third = call(client, "generate_text", prompt=PROMPT, max_new_tokens=12, temperature=1.0, top_k=0, top_p=1.0,
                 seed=12)
    assert result["samples"][2]["text"] == third["completion"]
    assert len({s["text"] for s in result["samples"]}) > 1


def test_score_text_bits_per_character(client):
    text = "KING.\nBring me the map, and let the council wait.\n"
    result = call(client, "score_text", text=text)
    assert "".join(result["tokens"]) == text
    assert len(result["surprisal_bits"]) == len(result["tokens"])
    assert all(b >= 0 for b in result["surprisal_bits"])
    assert math.isclose(result["bits_per_char"], sum(result["surprisal_bits"]) / len(text), rel_tol=1e-6)
    noise = call(client, "score_text", text="qzx vbnm kjhg wqpz xcvb")
    assert noise["bits_per_char"] > result["bits_per_char"]


def test_empty_prompt_starts_from_the_start_token(client):
    result = call(client, "generate_text", prompt="", max_new_tokens=5, temperature=0.8, top_k=0, top_p=0.95, seed=1)
    assert len(result["tokens"]) == 5 and result["dropped_tokens"] == 0


def test_long_prompt_is_left_truncated_and_says_so(client):
    long_prompt = "My lord, the night is cold and the watch is long. " * 60
    result = call(client, "next_token", prompt=long_prompt, temperature=0.8, top_k=0, top_p=0.95, seed=1)
    assert result["dropped_tokens"] > 0 and "dropped" in result["note"]


UNUSUAL_TEXTS = ["🎭👑 To be 🗡️", "tab\there\x00\x07\x1b[31m bell", "中文 и русский — ¿qué?", "\r\n\r\n"]


@pytest.mark.parametrize("text", UNUSUAL_TEXTS)
def test_any_unicode_text_works(client, text):
    scored = call(client, "score_text", text=text)
    assert "".join(scored["tokens"]) == text or "\ufffd" in "".join(scored["tokens"])
    assert math.isfinite(scored["bits_per_char"])
    generated = call(client, "generate_text", prompt=text, max_new_tokens=3, temperature=0.8, top_k=0, top_p=0.95,
                     seed=0)
    assert len(generated["tokens"]) == 3


@pytest.mark.parametrize("settings, words", [
    (dict(temperature="NaN"), ["temperature"]),
    (dict(temperature=2.5), ["temperature", "between"]),
    (dict(temperature=-1), ["temperature"]),
    (dict(top_k=-3), ["top-k"]),
    (dict(top_k=10**9), ["top-k"]),
    (dict(top_k=2.5), ["top-k", "whole"]),
    (dict(top_p=0), ["top-p"]),
    (dict(top_p=1.5), ["top-p"]),
    (dict(top_p="inf"), ["top-p"]),
    (dict(seed=-1), ["seed"]),
    (dict(seed="abc"), ["seed"]),
    (dict(temperature=None), ["temperature"]),
])
def test_bad_sampling_settings_get_clear_errors(client, settings, words):
    kwargs = dict(prompt=PROMPT, temperature=0.8, top_k=0, top_p=0.95, seed=0) | settings
    with pytest.raises(AppError) as excinfo:
        call(client, "next_token", **kwargs)
    assert_clean_error(excinfo, *words)


def raw_call(app_url: str, api_name: str, body: str) -> str:
    """POST a hand-written JSON body (NaN and Infinity included) to the REST API; return the event stream."""
    request = urllib.request.Request(f"{app_url}/gradio_api/call/{api_name}", data=body.encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        event_id = json.loads(urllib.request.urlopen(request, timeout=60).read())["event_id"]
    except urllib.error.HTTPError as err:
        return err.read().decode()
    return urllib.request.urlopen(f"{app_url}/gradio_api/call/{api_name}/{event_id}", timeout=60).read().decode()


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_over_raw_json_get_clear_errors(app_url, value):
    stream = raw_call(app_url, "next_token", f'{{"data": ["Hi", {value}, 0, 0.95, 0]}}')
    assert "event: complete" not in stream and "Traceback" not in stream and ".py" not in stream
    assert "Temperature" in stream or "error" in stream.lower()


def test_bad_lengths_and_texts_get_clear_errors(client):
    with pytest.raises(AppError) as excinfo:
        call(client, "generate_text", prompt=PROMPT, max_new_tokens=401, temperature=0.8, top_k=0, top_p=0.95, seed=0)
    assert_clean_error(excinfo, "tokens", "400")
    with pytest.raises(AppError) as excinfo:
        call(client, "continuations", prompt=PROMPT, count=50, max_new_tokens=10, temperature=0.8, top_k=0,
             top_p=0.95, seed=0)
    assert_clean_error(excinfo, "continuations")
    with pytest.raises(AppError) as excinfo:
        call(client, "score_text", text="x" * 20_001)
    assert_clean_error(excinfo, "20,000")
    with pytest.raises(AppError) as excinfo:
        call(client, "score_text", text="")
    assert_clean_error(excinfo, "text")
    still_serving = call(client, "next_token", prompt=PROMPT, temperature=0, top_k=0, top_p=1, seed=0)
    assert still_serving["candidates_left"] == 1
