"""The endpoints that look inside the models, through gradio_client against a launched app: JSON round trips that
agree with the other endpoints, and bad input answered with a clear message."""
import pytest
from gradio_client.exceptions import AppError

from tests.test_app import PROMPT, assert_clean_error, call

pytestmark = pytest.mark.app


def test_attention_returns_every_heads_causal_weights_and_the_forward_pass(client):
    result = call(client, "attention", prompt=PROMPT, layer=4, head=4)
    T = len(result["ids"])
    assert result["tokens"][0] == "<|endoftext|>" and len(result["tokens"]) == T and result["note"] == ""
    matrix = result["matrix"]
    assert len(matrix) == T and all(sum(row) == pytest.approx(1, abs=1e-5) for row in matrix)
    assert all(w == 0 for i, row in enumerate(matrix) for w in row[i + 1:])  # the future is masked
    assert len(result["last_token"]) == 4 and len(result["last_token"][0]) == 4
    assert result["last_token"][3][3] == matrix[-1]
    flow = result["flow"]
    assert flow[0]["shape"] == [T] and flow[-1]["shape"] == [T, 4096]
    assert sum(stage["params"] for stage in flow) == 4_198_912  # the GPT's parameters, the tied unembedding once


def test_the_logit_lens_ends_at_the_distribution_next_token_draws_from(client):
    lens = call(client, "logit_lens", prompt=PROMPT, top_n=5)
    drawn = call(client, "next_token", prompt=PROMPT, temperature=0, top_k=0, top_p=1, seed=0)
    last = lens["layers"][-1]
    assert [row["after"] for row in lens["layers"]] == ["embedding", "block 1", "block 2", "block 3", "block 4"]
    assert [c["id"] for c in last["candidates"]] == [c["id"] for c in drawn["candidates"][:5]]
    assert [c["prob"] for c in last["candidates"]] == pytest.approx(
        [c["model_prob"] for c in drawn["candidates"][:5]], abs=1e-5)
    assert last["pick"]["id"] == drawn["token_id"] and last["pick"]["rank"] == 1


def test_pixel_attention_reads_a_drawn_image_up_to_the_inspected_pixel(client):
    image = call(client, "pixels_sample", label="Trouser", count=1, temperature=1.0, top_k=0, top_p=1.0,
                 seed=3)["images"][0]
    result = call(client, "pixel_attention", label="Trouser", image=image, pixel=300)
    assert (result["row"], result["column"], result["drawn_pixels"]) == (11, 20, 299)
    weights = [w for row in result["mean"] for w in row]
    assert all(w == 0 for w in weights[299:]) and all(w > 0 for w in weights[:299])
    for layer, share in zip(result["layers"], result["class_token"]):
        assert sum(w for row in layer for w in row) + share == pytest.approx(1, abs=1e-4)
    assert len(result["probs"]) == result["levels"] == 8 and sum(result["probs"]) == pytest.approx(1, abs=1e-5)


@pytest.mark.parametrize("api_name, arguments, words", [
    ("attention", dict(prompt=PROMPT, layer=9, head=1), ["Layer", "between 1 and 4"]),
    ("attention", dict(prompt=PROMPT, layer=1, head="two"), ["Head"]),
    ("logit_lens", dict(prompt=PROMPT, top_n=0), ["Candidates per layer"]),
    ("pixel_attention", dict(label="Bag", image=[[0] * 28] * 27, pixel=5), ["28 x 28"]),
    ("pixel_attention", dict(label="Bag", image=[[300] * 28] * 28, pixel=5), ["0 to 255"]),
    ("pixel_attention", dict(label="Bag", image=[[0] * 28] * 28, pixel=785), ["Pixel"]),
])
def test_bad_input_gets_a_clear_message(client, api_name, arguments, words):
    with pytest.raises(AppError) as excinfo:
        call(client, api_name, **arguments)
    assert_clean_error(excinfo, *words)
