"""Pure pieces of the UI layer and its boundary: figure builders, input validation, token labels, the nucleus view."""
import math

import gradio as gr
import numpy as np
import plotly.graph_objects as go
import pytest
import torch

from genmodels import validation as validate
from genmodels.errors import RequestError
from genmodels.text.explain import nucleus_view
from genmodels.text.sampling import apply_temperature, apply_top_k, apply_top_p
from genmodels.ui import hosting, plots
from genmodels.ui.text.views import (
    GENERATED_COLORS,
    INSPECTED,
    PROBABILITY_COLORS,
    on_pick_token,
    probability_label,
    surprisal_label,
)


def candidates():
    return [
        {"id": 5, "token": " the", "model_prob": 0.5, "adjusted_prob": 0.7, "kept": True, "sampled": False},
        {"id": 9, "token": "\n", "model_prob": 0.2, "adjusted_prob": 0.3, "kept": True, "sampled": True},
        {"id": 2, "token": " the", "model_prob": 0.1, "adjusted_prob": 0.0, "kept": False, "sampled": False},
    ]


def test_distribution_figure_marks_removed_and_sampled_tokens():
    fig = plots.distribution_figure(candidates())
    model_bars, adjusted_bars = fig.data
    assert list(model_bars.y) == [0.5, 0.2, 0.1] and list(adjusted_bars.y) == [0.7, 0.3, 0.0]
    assert list(adjusted_bars.marker.color) == [plots.ORANGE, plots.ORANGE, plots.GREY]  # removed is grey
    assert list(model_bars.marker.line.width) == [0, 3, 0]  # the sampled token is outlined
    assert [a.x for a in fig.layout.annotations] == [1]
    assert list(fig.layout.xaxis.ticktext) == ["␣the", "↵", "␣the"]  # duplicates keep separate bars
    assert list(fig.layout.xaxis.tickvals) == [0, 1, 2]


def test_cumulative_figure_draws_the_top_p_line_and_greys_the_rest():
    fig = plots.cumulative_figure(["a", "b", "c"], [0.6, 0.3, 0.1], [0.6, 0.9, 1.0], top_p=0.8, crossing_rank=1)
    bars, line = fig.data
    assert list(bars.marker.color) == [plots.ORANGE, plots.ORANGE, plots.GREY]
    assert list(line.y) == [0.6, 0.9, 1.0]
    assert fig.layout.shapes[0].y0 == 0.8


def test_surprisal_and_loss_figures():
    fig = plots.surprisal_figure(["a", "b"], [1.0, 9.0])
    assert list(fig.data[0].y) == [1.0, 9.0]
    log = {"train": {"step": [0, 10], "loss": [8.0, 5.0]}, "val": {"step": [0, 10], "loss": [8.1, 5.5]}}
    fig = plots.loss_curves_figure(log)
    assert [list(t.y) for t in fig.data] == [[8.0, 5.0], [8.1, 5.5]]
    in_bits = plots.loss_curves_figure(log, scale=1 / math.log(2))
    assert list(in_bits.data[0].y) == pytest.approx([8.0 / math.log(2), 5.0 / math.log(2)])


def test_a_long_legend_goes_under_the_plot_instead_of_over_its_title():
    fig = plots.noise_levels_figure([999, 500, 0], [1.0, 0.7, 0.01])
    legend = fig.layout.legend
    assert (legend.yref, legend.y, legend.yanchor) == ("container", 0, "bottom") and fig.layout.margin.b >= 100


def test_a_long_cumulative_chart_labels_few_enough_tokens_to_stay_readable():
    tokens = [f"t{i}" for i in range(60)]
    probs = [1 / 60] * 60
    fig = plots.cumulative_figure(tokens, probs, [(i + 1) / 60 for i in range(60)], top_p=0.9, crossing_rank=53)
    assert len(fig.layout.xaxis.tickvals) <= plots.MAX_TICK_LABELS
    lines = fig.layout.title.text.replace("<sup>", "").replace("</sup>", "").split("<br>")
    assert max(map(len, lines)) <= 50  # each line short enough not to be cut on a narrow chart
    assert fig.data[0].hovertext[59].startswith("t59")  # every token still named on hover


def test_merged_lays_changes_over_nested_dicts_and_leaves_both_as_they_were():
    base = {"margin": {"l": 50, "b": 70}, "title": {"text": "a"}, "height": 360}
    changes = {"margin": {"b": 130}, "title": "plain", "legend": {"y": 0}}
    assert plots.merged(base, changes) == {"margin": {"l": 50, "b": 130}, "title": "plain", "height": 360,
                                           "legend": {"y": 0}}
    assert base == {"margin": {"l": 50, "b": 70}, "title": {"text": "a"}, "height": 360}
    assert changes["margin"] == {"b": 130}


def test_a_figure_built_in_one_go_looks_as_one_built_call_by_call():
    traces = [dict(type="scatter", x=plots.array([0, 1, None, 2]), y=plots.array([1, 2, None, 3]), mode="lines")]
    at_once = plots.figure(traces, plots.merged(plots.look("T", height=300), plots.LEGEND_BELOW))
    by_calls = plots.below_legend(plots.styled(go.Figure(go.Scatter(x=[0, 1, None, 2], y=[1, 2, None, 3],
                                                                   mode="lines")), "T", height=300))
    assert at_once.layout == by_calls.layout
    assert at_once.data[0].x.dtype == np.float32 and np.isnan(at_once.data[0].x[2])  # NaN breaks the line as None did


def test_stacked_axes_lay_charts_out_as_make_subplots_does():
    from plotly.subplots import make_subplots

    from genmodels.ui.lab.plots import stacked_axes

    for rows, spacing in ((1, 0.12), (2, 0.12), (2, 0.2), (3, 0.1)):
        laid = make_subplots(rows=rows, cols=1, vertical_spacing=spacing).layout
        for name, axis in stacked_axes(rows, spacing).items():
            assert laid[name].anchor == axis["anchor"] and np.allclose(laid[name].domain, axis["domain"]), name


def test_token_labels_turn_upright_only_when_the_chart_is_too_narrow_for_them():
    for fig in (plots.distribution_figure(candidates()),
                plots.cumulative_figure(["a", "b"], [0.6, 0.4], [0.6, 1.0], top_p=0.9, crossing_rank=1)):
        axis = fig.layout.xaxis
        # plotly takes the first angle at which the labels do not overlap: flat, 45°, upright (a 390 px phone)
        assert axis.tickangle is None and list(axis.autotickangles) == [0, -45, -90] and axis.automargin


def test_the_inspected_generated_token_is_marked_in_the_text():
    step = {"candidates": candidates(), "model_entropy_bits": 2.0, "entropy_bits": 1.0, "candidates_left": 3,
            "adjusted_prob": 0.3}
    steps = [step | {"token": " my", "model_prob": 0.6}, step | {"token": " lord", "model_prob": 0.05}]
    shown = [{"token": "KING.\n", "class_or_confidence": None}, {"token": " my", "class_or_confidence": "p ≥ 50%"},
             {"token": " lord", "class_or_confidence": "1–10%"}]
    marked, figure, _ = on_pick_token(2, steps, shown)
    assert marked == [("KING.\n", None), (" my", "p ≥ 50%"), (" lord", INSPECTED)]  # the earlier mark is undone
    assert figure.layout.title.text == "Token 2: ␣lord"
    assert INSPECTED in GENERATED_COLORS and GENERATED_COLORS[INSPECTED] not in PROBABILITY_COLORS.values()


def test_show_token_makes_whitespace_and_control_characters_visible():
    assert plots.show_token(" a\tb\n") == "␣a→b↵"
    assert plots.show_token("\x00") == "\\x00"
    assert plots.show_token("") == "∅"


@pytest.mark.parametrize("top_p", [0.05, 0.5, 0.9, 0.999])
@pytest.mark.parametrize("temperature, top_k", [(1.0, 0), (0.5, 10), (1.7, 3)])
def test_nucleus_view_crossing_rank_agrees_with_apply_top_p(top_p, temperature, top_k):
    logits = torch.randn(300, generator=torch.Generator().manual_seed(3)) * 2
    view = nucleus_view(logits, temperature, top_k, top_p, top_n=300)
    kept = torch.isfinite(apply_top_p(apply_top_k(apply_temperature(logits, temperature), top_k), top_p))
    assert view["crossing_rank"] + 1 == int(kept.sum())
    assert view["cumulative"][view["crossing_rank"]] >= top_p - 1e-6


@pytest.mark.parametrize("value, expected", [(0.5, 0.5), ("0.25", 0.25), (2, 2.0), (0, 0.0)])
def test_number_accepts_values_in_range(value, expected):
    assert validate.number(value, "Temperature", 0, 2) == expected


@pytest.mark.parametrize("value", [None, "", "abc", True, float("nan"), float("inf"), -0.1, 2.01, [1], {"a": 1},
                                   "1e999"])
def test_number_rejects_everything_else_with_a_named_message(value):
    with pytest.raises(RequestError, match="Temperature"):
        validate.number(value, "Temperature", 0, 2)


def test_integer_and_seed_validation():
    assert validate.number(3.0, "Top-k", 0, 10, integer=True) == 3
    with pytest.raises(RequestError, match="whole number"):
        validate.number(2.5, "Top-k", 0, 10, integer=True)
    assert validate.SEED.check(2**31 - 1) == 2**31 - 1
    for bad in (-1, 2**31, 1.5, "x"):
        with pytest.raises(RequestError, match="Seed"):
            validate.SEED.check(bad)


def test_text_validation():
    assert validate.text(None, "Prompt") == ""
    assert validate.text("🎭\x00", "Prompt") == "🎭\x00"
    assert validate.text("a\ud800b", "Prompt") == "a?b"  # a lone surrogate is not text
    with pytest.raises(RequestError, match="limit"):
        validate.text("x" * 11, "Prompt", max_chars=10)
    with pytest.raises(RequestError, match="text"):
        validate.text(12, "Prompt")


def test_probability_and_surprisal_bins_cover_their_ranges():
    assert [probability_label(p) for p in (1.0, 0.5, 0.2, 0.05, 0.001, 0.0)] == \
        ["p ≥ 50%", "p ≥ 50%", "10–50%", "1–10%", "p < 1%", "p < 1%"]
    assert [surprisal_label(b) for b in (0.0, 0.5, 2.0, 5.0, 12.0, math.inf)] == \
        ["< 1 bit", "< 1 bit", "1–4 bits", "4–8 bits", "≥ 8 bits", "≥ 8 bits"]


def test_a_request_error_reaches_the_user_as_a_gradio_error_with_its_message():
    @hosting.answers
    def handler(value):
        return validate.number(value, "Temperature", 0, 2)

    assert handler(1) == 1.0
    with pytest.raises(gr.Error, match="Temperature must be between 0 and 2"):
        handler(3)
    with pytest.raises(RequestError):  # the family code itself raises no gradio error
        validate.number(3, "Temperature", 0, 2)
