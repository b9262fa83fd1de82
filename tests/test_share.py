"""Shareable links: settings -> query string -> restored settings -> the same output."""
from urllib.parse import parse_qsl, urlencode

import gradio as gr
import pytest

from genmodels.ui.compare.layout import build_tab as build_compare_tab
from genmodels.ui.diffusion import api as diffusion_api
from genmodels.ui.diffusion.layout import build_tab as build_diffusion_tab
from genmodels.ui.gan.layout import build_tab as build_gan_tab
from genmodels.ui.lab.layout import build_tab as build_lab_tab
from genmodels.ui.pixels.layout import build_tab as build_pixels_tab
from genmodels.ui.share import MAX_SHARED_TEXT, restore, restore_message, settings_query, sub_tab_ids
from genmodels.ui.text import api as text_api
from genmodels.ui.text.layout import build_tab as build_text_tab

BUILDERS = {"text": build_text_tab, "pixels": build_pixels_tab, "diffusion": build_diffusion_tab,
            "gan": build_gan_tab, "lab": build_lab_tab, "compare": build_compare_tab}


@pytest.fixture(scope="module")
def shared():
    """Every tab's shareable controls, built once."""
    with gr.Blocks() as page:
        return {tab: build(page) for tab, build in BUILDERS.items()}


def through_url(tab: str, values: dict, shared: dict) -> tuple:
    """Encode the values as a link's query string, parse it back as a server would, and restore."""
    query = dict(parse_qsl(urlencode(settings_query(tab, values)), keep_blank_values=True))
    return restore(query, shared)


@pytest.mark.parametrize("tab", BUILDERS)
def test_every_tab_round_trips_its_default_settings(shared, tab):
    controls = shared[tab]
    assert len(controls) >= 3
    values = {name: sub_tab_ids(control)[-1] if isinstance(control, gr.Tabs) else control.value
              for name, control in controls.items()}
    restored_tab, restored, problems = through_url(tab, values, shared)
    assert problems == [] and restored_tab == tab
    assert {name: restored[(tab, name)] for name in controls} == values


def test_changed_settings_come_back_exactly_with_their_types(shared):
    prompt = "KING.\nWhat? & = + % # 🎭 ünïcödé\t\"quoted\"\n"
    values = {"prompt": prompt, "temperature": 0.35, "top_k": 40, "top_p": 0.73, "seed": 123456}
    _, restored, problems = through_url("text", values, shared)
    assert problems == []
    assert restored[("text", "prompt")] == prompt
    assert restored[("text", "temperature")] == 0.35 and restored[("text", "top_p")] == 0.73
    assert type(restored[("text", "top_k")]) is int and type(restored[("text", "seed")]) is int


def test_the_same_settings_through_a_link_give_the_same_next_token(shared):
    values = {"prompt": "FIRST CITIZEN.\nThe bread is dear,", "temperature": 1.3, "top_k": 50, "top_p": 0.9,
              "seed": 77}
    _, restored, _ = through_url("text", values, shared)
    again = {name: restored[("text", name)] for name in values}
    assert text_api.next_token(**again) == text_api.next_token(**values)


def test_the_same_settings_through_a_link_give_the_same_images(shared):
    values = {"prompt": "a dark ankle boot", "guidance": 5.5, "steps": 6, "sampler": "DDPM", "eta": 0.0, "seed": 9,
              "count": 2}
    _, restored, _ = through_url("diffusion", values, shared)
    again = {name: restored[("diffusion", name)] for name in values}
    first, second = diffusion_api.diffuse(**values), diffusion_api.diffuse(**again)
    assert first["images"] == second["images"] and first["judge"] == second["judge"]


@pytest.mark.parametrize("raw, reason", [("9", "between 0 and 2"), ("nan", "between"), ("inf", "between"),
                                         ("hot", "not a number"), ("", "not a number")])
def test_a_bad_number_is_ignored_and_named(shared, raw, reason):
    tab, restored, problems = restore({"tab": "text", "text.temperature": raw, "text.top_p": "0.5"}, shared)
    assert tab == "text" and ("text", "temperature") not in restored and restored[("text", "top_p")] == 0.5
    assert len(problems) == 1 and "text.temperature" in problems[0] and reason in problems[0]


def test_bad_choices_fractions_long_text_and_unknown_tabs_are_refused(shared):
    query = {"tab": "../../etc", "diffusion.sampler": "Euler", "gan.count": "2.5", "gan.kind": "collapsed",
             "diffusion.prompt": "x" * (MAX_SHARED_TEXT + 1), "nonsense.key": "1"}
    tab, restored, problems = restore(query, shared)
    assert tab is None
    assert restored == {("gan", "kind"): "collapsed"}
    assert sorted(p.split("=")[0] for p in problems) == ["diffusion.prompt", "diffusion.sampler", "gan.count"]


def test_a_whole_number_control_refuses_a_fraction_but_a_fine_slider_keeps_it(shared):
    _, restored, problems = restore({"text.seed": "1.5", "text.top_p": "0.123"}, shared)
    assert restored == {("text", "top_p"): 0.123} and "whole number" in problems[0]


def test_the_notice_says_what_a_link_restored_and_never_claims_values_it_did_not():
    one = restore_message("text", {("text", "seed"): 3}, [])
    assert one.startswith("**Settings restored from the link** (1 value)")
    nothing = restore_message(None, {}, ["text.temperature='hot' is not a number"])
    assert nothing.startswith("**Nothing in this link could be restored**") and "0 values" not in nothing
    assert "hot" in nothing
    assert "held no settings" in restore_message("gan", {}, [])


def test_a_link_names_a_sub_tab_by_id_and_an_unknown_one_is_ignored(shared):
    tab, restored, problems = restore({"tab": "diffusion", "diffusion.view": "forward"}, shared)
    assert tab == "diffusion" and restored[("diffusion", "view")] == "forward" and problems == []
    _, restored, problems = restore({"tab": "gan", "gan.view": "nowhere"}, shared)
    assert ("gan", "view") not in restored and "gan.view" in problems[0]


def test_every_lesson_plan_link_opens_its_tab_with_all_its_settings(shared):
    from genmodels.ui.plan import ASSUMED_MINUTES, PLAN

    assert sum(step.minutes for step in PLAN) < ASSUMED_MINUTES  # time left for the closing comparison
    for step in PLAN:
        query = dict(parse_qsl(step.link().lstrip("?"), keep_blank_values=True))
        tab, restored, problems = restore(query, shared | {"about": {}})
        assert tab == step.tab and problems == [], (step.title, problems)
        assert {name: restored[(step.tab, name)] for name in step.values} == step.values, step.title
