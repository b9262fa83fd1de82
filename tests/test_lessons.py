"""Lessons: every tab has 3-5 guided presets, each sets only controls its tab has, with values they accept."""
import gradio as gr
import pytest

from genmodels.ui.demo import build_demo
from genmodels.ui.diffusion import layout as diffusion_tab
from genmodels.ui.gan import layout as gan_tab
from genmodels.ui.lab import layout as lab_tab
from genmodels.ui.lessons import Lesson, add_lessons, lesson_answer, lesson_update
from genmodels.ui.pixels import layout as pixels_tab
from genmodels.ui.text import layout as text_tab

TABS = {"text": text_tab.LESSONS, "diffusion": diffusion_tab.LESSONS, "gan": gan_tab.LESSONS,
        "pixels": pixels_tab.LESSONS, "lab": lab_tab.LESSONS}


@pytest.mark.parametrize("tab", TABS)
def test_each_tab_has_three_to_five_lessons_with_a_paragraph(tab):
    lessons = TABS[tab]
    assert 3 <= len(lessons) <= 5 and len({lesson.title for lesson in lessons}) == len(lessons)
    assert all(lesson.values and len(lesson.notice.split()) >= 25 for lesson in lessons)
    assert all(lesson.question.endswith("?") for lesson in lessons)  # predict first, then observe


def test_a_lesson_sets_its_values_in_control_order_and_skips_the_rest():
    lessons = [Lesson("Greedy", {"temperature": 0.0, "top_p": 1.0}, "How many survive?", "what to notice")]
    update = lesson_update(lessons, ["temperature", "top_k", "top_p"], "Greedy")
    assert update[0] == 0.0 and update[2] == 1.0 and update[3].startswith("**Greedy.** How many survive?")
    assert "what to notice" not in update[3]  # the answer waits for the run
    assert update[1] == gr.skip()
    assert lesson_update(lessons, ["temperature"], None) == [gr.skip(), ""]
    assert lesson_answer(lessons, "Greedy").endswith("**What happened:** what to notice")


def test_a_lesson_naming_a_missing_control_is_refused():
    with gr.Blocks(), pytest.raises(ValueError, match="top_k"):
        add_lessons([Lesson("x", {"top_k": 3}, "q?", "y")], {"temperature": gr.Slider()}, "bad-lessons")


def test_a_lesson_value_its_control_refuses_is_refused():
    with gr.Blocks(), pytest.raises(ValueError, match="temperature=3"):
        add_lessons([Lesson("hot", {"temperature": 3}, "q?", "y")], {"temperature": gr.Slider(0, 2)}, "bad-lessons")
    with gr.Blocks(), pytest.raises(ValueError, match="sampler='Euler'"):
        add_lessons([Lesson("s", {"sampler": "Euler"}, "q?", "y")], {"sampler": gr.Radio(["DDIM", "DDPM"])}, "bad-lessons")


def test_the_app_builds_with_every_tab_s_lessons_checked():
    demo = build_demo()  # add_lessons checks every lesson against its controls while the app is built
    pickers = [block for block in demo.blocks.values() if (getattr(block, "elem_id", None) or "").endswith("-lessons")]
    assert sorted(p.elem_id for p in pickers) == sorted(f"{tab}-lessons" for tab in TABS)
    assert all([choice[1] for choice in p.choices] == [lesson.title for lesson in TABS[p.elem_id[:-8]]]
               for p in pickers)
