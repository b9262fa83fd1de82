"""Lessons: predict, then observe. Picking one sets the tab's controls and asks a question beside the output, runs
the tab's action with those settings, then shows what to notice."""
from dataclasses import dataclass

import gradio as gr

from genmodels.ui.wiring import by_name

RUNNING = "  \n_Running it now: predict before the result appears._"


@dataclass(frozen=True)
class Lesson:
    title: str
    values: dict  # control name -> the value the lesson sets
    question: str  # asked before the run, so students predict first
    notice: str  # shown after the run: what happened and why


@dataclass(frozen=True)
class Run:
    """A tab action a lesson runs: its handler, the named controls it reads and the outputs it fills."""
    handler: object
    controls: dict
    outputs: list


def find(lessons: list[Lesson], title) -> Lesson | None:
    return next((lesson for lesson in lessons if lesson.title == title), None)


def lesson_update(lessons: list[Lesson], names: list[str], title) -> list:
    """The values for the controls `names` (gr.skip() for those the lesson leaves alone) and the question."""
    lesson = find(lessons, title)
    if lesson is None:
        return [gr.skip()] * len(names) + [""]
    return [lesson.values.get(name, gr.skip()) for name in names] + [f"**{lesson.title}.** {lesson.question}{RUNNING}"]


def lesson_answer(lessons: list[Lesson], title) -> str:
    """The question again, and what the run showed."""
    lesson = find(lessons, title)
    if lesson is None:
        return gr.skip()
    return f"**{lesson.title}.** {lesson.question}  \n**What happened:** {lesson.notice}"


def accepts(control, value) -> bool:
    """Whether a slider's range or a radio's or dropdown's choices hold `value` (other controls take anything)."""
    if isinstance(control, gr.Slider):
        return control.minimum <= value <= control.maximum
    if isinstance(control, (gr.Radio, gr.Dropdown)):
        return value in [choice[1] for choice in control.choices]
    return True


def add_lessons(lessons: list[Lesson], controls: dict, elem_id: str) -> gr.Dropdown:
    """The lesson picker (call inside gr.Blocks; `run_lessons` wires it once the outputs exist). A lesson that
    names a control the tab lacks, or a value the control refuses, is an error at build time."""
    unknown = {name for lesson in lessons for name in lesson.values} - set(controls)
    if unknown:
        raise ValueError(f"lessons set controls the tab does not have: {sorted(unknown)}")
    refused = [f"{lesson.title}: {name}={value!r}" for lesson in lessons for name, value in lesson.values.items()
               if not accepts(controls[name], value)]
    if refused:
        raise ValueError(f"lesson values out of their control's range: {refused}")
    return gr.Dropdown([lesson.title for lesson in lessons], value=None, label="Lessons: predict, then observe",
                       elem_id=elem_id)


def run_lessons(picker: gr.Dropdown, lessons: list[Lesson], controls: dict, note: gr.Markdown,
                runs: list[Run]) -> None:
    """Choosing a lesson sets the controls and asks its question in `note`, runs each action with the new values,
    then answers (not when a run failed). Only a person's choice starts it (input, not change)."""
    names = list(controls)
    name = picker.elem_id.replace("-", "_")
    event = picker.input(lambda title: lesson_update(lessons, names, title), picker, [*controls.values(), note],
                         api_name=f"ui_{name}", api_visibility="private", show_progress="hidden")
    for index, run in enumerate(runs):
        event = event.then(by_name(run.handler, list(run.controls)), list(run.controls.values()), run.outputs,
                           api_name=f"ui_{name}_run_{index}", api_visibility="private")
    event.success(lambda title: lesson_answer(lessons, title), picker, note, api_name=f"ui_{name}_answer",
                  api_visibility="private", show_progress="hidden")
