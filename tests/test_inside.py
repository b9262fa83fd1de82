"""Inside the models: the attention the blocks computed, the logit lens, the data flow, the pixel model's gaze, their
requests and their views. Tiny random models for the math, the committed ones for the requests."""
import threading

import pytest
import torch

from genmodels.errors import RequestError
from genmodels.pixels import requests as pixels
from genmodels.pixels.gaze import gaze
from genmodels.pixels.model import PIXELS, PixelConfig, PixelTransformer, class_token
from genmodels.text import explain
from genmodels.text import requests as text
from genmodels.text.gpt import KVCache
from genmodels.text.inside import data_flow, look_inside, recorded
from genmodels.ui.pixels.plots import gaze_figure
from genmodels.ui.text import plots
from tests.test_gpt import BLOCK, random_ids, tiny_gpt

pytestmark = pytest.mark.usefixtures("one_thread")
PROMPT = "KING.\nBring me the map, and let the council wait.\n\nQUEEN.\n"


def test_attention_rows_sum_to_one_and_nothing_is_seen_above_the_diagonal():
    model = tiny_gpt(3, n_layer=3)
    found = look_inside(model, random_ids(0, BLOCK)[0].tolist())
    assert found.attention.shape == (3, 2, BLOCK, BLOCK)  # (L, H, T, T)
    torch.testing.assert_close(found.attention.sum(-1), torch.ones(3, 2, BLOCK))
    future = torch.ones(BLOCK, BLOCK, dtype=torch.bool).triu(1)
    assert (found.attention[..., future] == 0).all() and (found.attention[..., ~future] > 0).all()


def test_the_recorded_attention_is_the_blocks_own_and_times_v_gives_the_blocks_output():
    model = tiny_gpt(4, n_layer=2)
    ids = random_ids(1, BLOCK)
    outputs = []  # what each attention layer really returned (F.scaled_dot_product_attention, then c_proj)
    handles = [b.attn.register_forward_hook(lambda m, a, out: outputs.append(out)) for b in model.blocks]
    with torch.no_grad(), recorded(model) as record:
        model(ids)
    for handle in handles:
        handle.remove()
    cos, sin = model.rotary[:, :BLOCK]
    x = model.wte(ids)  # (1, T, C) the residual stream, walked by hand
    with torch.no_grad():
        for block, weights, output in zip(model.blocks, record.attention, outputs):
            q, k, v = block.attn.project(block.ln_1(x), cos, sin)  # (1, H, T, D) each
            scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
            expected = scores.masked_fill(torch.ones(BLOCK, BLOCK).triu(1).bool(), float("-inf")).softmax(-1)
            torch.testing.assert_close(weights, expected)
            mixed = (weights @ v).transpose(1, 2).reshape(1, BLOCK, -1)  # (1, T, C) heads side by side
            torch.testing.assert_close(block.attn.c_proj(mixed), output, atol=1e-5, rtol=1e-4)
            x = block(x, cos, sin)


def test_the_logit_lens_last_read_out_is_the_models_own_logits():
    model = tiny_gpt(5, n_layer=3)
    ids = random_ids(2, 9)
    found = look_inside(model, ids[0].tolist())
    with torch.no_grad():
        logits = model(ids)[0, -1]
    assert found.lens_logits.shape == (4, 64)  # the embedding, then each of 3 blocks
    torch.testing.assert_close(found.lens_logits[-1], logits)
    torch.testing.assert_close(found.logits, logits)
    assert not torch.allclose(found.lens_logits[0], logits)  # earlier read-outs differ: the blocks do something


def test_recording_leaves_other_threads_and_cached_steps_out_and_removes_its_hooks():
    model = tiny_gpt(6)
    ids = random_ids(3, 5)
    with torch.no_grad(), recorded(model) as record:
        other = threading.Thread(target=model, args=(ids,))  # an engine's worker using the shared model meanwhile
        other.start()
        other.join()
        assert record.attention == [] and record.residual == []
        with pytest.raises(ValueError, match="without a KV cache"):
            model(ids, KVCache(model.config, 1, "cpu"))
    assert all(not b.attn._forward_hooks and not b._forward_hooks for b in model.blocks)


def test_the_data_flow_adds_up_to_the_models_parameters_and_ends_in_logits():
    model = tiny_gpt(0, n_layer=3)
    stages = data_flow(model, 7)
    assert sum(s["params"] for s in stages) == model.num_params()
    assert [s["shape"] for s in stages[:2]] == [[7], [7, 32]] and stages[-1]["shape"] == [7, 64]
    assert stages[-1]["axes"] == ["T", "V"] and len(stages) == 2 + 2 * 3 + 1
    assert {s["view"] for s in stages} == set(plots.VIEW_ANCHORS)


def test_the_pixel_gaze_covers_only_the_pixels_drawn_before_the_inspected_one():
    torch.manual_seed(0)
    model = PixelTransformer(PixelConfig(levels=8, n_layer=2, n_head=2, n_embd=32)).eval()
    drawn = torch.randint(0, 8, (PIXELS,)).tolist()
    start, index = class_token(model.config, 3), 100
    found = gaze(model, start, drawn, index)
    flat = found.maps.flatten(1)  # (L, 784)
    assert found.maps.shape == (2, 28, 28)
    assert (flat[:, index:] == 0).all() and (flat[:, :index] > 0).all()
    torch.testing.assert_close(flat.sum(1) + found.class_share, torch.ones(2))  # the rest is on the class token
    with torch.no_grad():
        probs = model(torch.tensor([[start, *drawn[:index]]]))[0, -1].softmax(-1)
    torch.testing.assert_close(found.probs, probs)
    first = gaze(model, start, drawn, 0)  # the first pixel: only the class token to look at
    assert (first.maps == 0).all() and torch.allclose(first.class_share, torch.ones(2))


def test_inside_requests_name_their_limits():
    assert text.InsideRequest.build(prompt=PROMPT, layer=4, head=4.0).head == 4
    for values, words in [(dict(layer=5), "Layer must be between 1 and 4"), (dict(head=0), "Head"),
                          (dict(layer="x"), "Layer"), (dict(head=1.5), "whole number"),
                          (dict(top_n=21), "Candidates per layer"), (dict(prompt=7), "Prompt must be text")]:
        with pytest.raises(RequestError, match=words):
            text.InsideRequest.build(**values)
    good = [[0] * 28] * 28
    assert pixels.GazeRequest.build(label="Bag", image=[9] * PIXELS, pixel=3).image.shape == (28, 28)
    for values in [dict(image=None), dict(image=[[0] * 56] * 14), dict(image=[256] * PIXELS),
                   dict(image=[float("nan")] * PIXELS), dict(image="x"), dict(image=[[0, [1]]]),
                   dict(image=good, pixel=785), dict(image=good, label="Hat")]:
        with pytest.raises(RequestError):
            pixels.GazeRequest.build(**values)


def test_the_committed_models_json_agrees_with_their_own_forward():
    result = text.look_inside(text.InsideRequest.build(prompt=PROMPT, layer=2, head=3, top_n=4))
    view, lens = result.attention_json(), result.lens_json()
    T = len(view["ids"])
    assert view["tokens"][0] == "<|endoftext|>" and len(view["matrix"]) == T
    assert view["last_token"][1][2] == view["matrix"][-1]  # the last row of the chosen head's matrix
    tm = text.text_model()
    probs = explain.next_token_logits_for(tm, explain.prepare_prompt(tm, PROMPT)).softmax(-1)
    top = probs.topk(4)
    last = lens["layers"][-1]
    assert [c["id"] for c in last["candidates"]] == top.indices.tolist()
    assert [c["prob"] for c in last["candidates"]] == pytest.approx(top.values.tolist(), abs=1e-5)
    assert last["pick"]["rank"] == 1 and len(lens["layers"]) == tm.model.config.n_layer + 1


def test_views_draw_the_masked_future_blank_and_mark_the_pick():
    labels = plots.token_labels(["<|endoftext|>", " a", "\n"], "<|endoftext|>")
    assert labels == ["⟨start⟩", "␣a", "↵"]
    matrix = plots.matrix_figure(labels, [[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]], 1, 2)
    assert list(matrix.data[0].z[0]) == [1, None, None] and list(matrix.data[0].z[2]) == [0.2, 0.3, 0.5]
    heads = plots.heads_figure(labels, [[[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]], 1, 2)
    assert len(heads.data[0].z) == 2 and heads.layout.shapes[-1].y0 == 0.5  # head 2's row outlined
    rows = [{"after": name, "candidates": [{"id": i, "token": t, "prob": p} for i, t, p in cands],
             "pick": {"id": 5, "token": "x", "prob": p, "rank": r}}
            for name, cands, p, r in [("embedding", [(1, "a", 0.4), (5, "x", 0.1)], 0.1, 2),
                                      ("block 1", [(5, "x", 0.7), (1, "a", 0.2)], 0.7, 1)]]
    table = plots.lens_html(rows, "<|endoftext|>")
    assert table.count('class="gm-pick"') == 2 and "block 1 = the model" in table and "10% · #2" in table
    flow = plots.flow_html(data_flow(tiny_gpt(0), 3))
    assert all(f'href="#{anchor}"' in flow for anchor in plots.VIEW_ANCHORS.values())
    picture = [[[0, 0, 0]] * 28] * 28
    maps = torch.zeros(2, 28, 28)
    maps[:, 0, :5] = 0.2
    figure = gaze_figure(picture, maps.mean(0).tolist(), maps.tolist(), 5)
    painted = figure.data[1].z  # the mean panel's weights: pixels 0-4 drawn, the rest not
    assert list(painted[0][:5]) == pytest.approx([0.2] * 5) and painted[0][5] is None and painted[27][27] is None
