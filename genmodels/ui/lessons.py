"""Guided presets ("lessons"): pick one and the tab's controls take its values, with a paragraph on what to notice."""
from dataclasses import dataclass

import gradio as gr


@dataclass(frozen=True)
class Lesson:
    title: str
    values: dict  # control name -> the value the lesson sets
    notice: str  # what to do next and what to look for


def lesson_update(lessons: list[Lesson], names: list[str], title) -> list:
    """The values for the controls `names` (gr.skip() for those the lesson leaves alone) and the explanation."""
    lesson = next((lesson for lesson in lessons if lesson.title == title), None)
    if lesson is None:
        return [gr.skip()] * len(names) + [""]
    return [lesson.values.get(name, gr.skip()) for name in names] + [f"**{lesson.title}.** {lesson.notice}"]


def accepts(control, value) -> bool:
    """Whether a slider's range or a radio's or dropdown's choices hold `value` (other controls take anything)."""
    if isinstance(control, gr.Slider):
        return control.minimum <= value <= control.maximum
    if isinstance(control, (gr.Radio, gr.Dropdown)):
        return value in [choice[1] for choice in control.choices]
    return True


def add_lessons(lessons: list[Lesson], controls: dict, elem_id: str) -> None:
    """A lesson picker above its explanation; choosing a lesson sets the named controls (call inside gr.Blocks).
    A lesson that names a control the tab lacks, or a value the control refuses, is an error at build time."""
    unknown = {name for lesson in lessons for name in lesson.values} - set(controls)
    if unknown:
        raise ValueError(f"lessons set controls the tab does not have: {sorted(unknown)}")
    refused = [f"{lesson.title}: {name}={value!r}" for lesson in lessons for name, value in lesson.values.items()
               if not accepts(controls[name], value)]
    if refused:
        raise ValueError(f"lesson values out of their control's range: {refused}")
    names = list(controls)
    picker = gr.Dropdown([lesson.title for lesson in lessons], value=None, label="Lessons: guided presets",
                         elem_id=elem_id)
    explanation = gr.Markdown(elem_id=f"{elem_id}-notice")
    picker.change(lambda title: lesson_update(lessons, names, title), picker, [*controls.values(), explanation],
                  api_name=f"ui_{elem_id.replace('-', '_')}", api_visibility="private", show_progress="hidden")
