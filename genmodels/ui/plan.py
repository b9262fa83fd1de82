"""The Lesson plan tab: a 45-minute class across every tab, each step one link away (the link opens the tab and
sub-tab with the step's settings, as a shared link does)."""
from dataclasses import dataclass, field
from urllib.parse import urlencode

import gradio as gr

from genmodels.ui.family import FamilyTab
from genmodels.ui.share import settings_query


@dataclass(frozen=True)
class Step:
    minutes: int
    title: str
    tab: str  # the tab id its link opens
    values: dict = field(default_factory=dict)  # control name -> value, as the tab's links name them
    do: str = ""  # what to press
    ask: str = ""  # the question to put to the class before pressing
    notice: str = ""  # what to point at afterwards

    def link(self) -> str:
        """The query string that opens the step's tab with its settings."""
        return "?" + urlencode(settings_query(self.tab, self.values))


PLAN = [
    Step(2, "Three ways to make data", "about", do="Read the three short descriptions aloud.",
         ask="A model writes a sentence, paints an image, invents a face: do you think it does all three the same way?",
         notice="Autoregressive models build data piece by piece, diffusion models clean up noise step by step, GANs "
                "turn noise into data in one pass against a critic."),
    Step(4, "Next token, greedy", "text", {"temperature": 0.0, "top_k": 0, "top_p": 1.0, "view": "next"},
         do="Press Next token three times, then change the seed and press again.",
         ask="At temperature 0, will a different seed give a different token?",
         notice="One candidate is left: the argmax. The seed no longer matters."),
    Step(4, "Temperature and top-p", "text", {"temperature": 1.4, "top_k": 0, "top_p": 0.5, "view": "next"},
         do="Press Next token, then drag top-p from 0.5 to 0.95 and temperature from 1.4 to 0.5 (the bars redraw "
            "without running the model).",
         ask="Which slider changes which tokens are allowed, and which changes how likely they are?",
         notice="Temperature reshapes every probability; top-p cuts the tail, keeping more tokens when the model is "
                "unsure."),
    Step(5, "A model of your own text", "text", {"own_seconds": 30, "view": "owntext"},
         do="Paste a paragraph the class writes together (200 characters or more), or keep the sonnets; press Train, "
            "and when it stops press Generate.",
         ask="After 30 seconds of learning only this text, will it write noise, English, or our own words?",
         notice="The sample goes from random characters to the text's own words within seconds. The held-out curve "
                "(the last tenth, never trained on) stops falling and then climbs: the model is memorizing."),
    Step(4, "The same recipe on pixels", "pixels", {"label": "Sneaker", "temperature": 1.0, "count": 4},
         do="Press Draw pixel by pixel and watch the rows fill in; then set temperature 0 and draw again.",
         ask="784 choices, one after another: what happens if each takes its single most likely value?",
         notice="At temperature 0 the images come out as identical flat blocks the judge declines to name: the most "
                "likely pixel, one at a time, is not the most likely image."),
    Step(3, "Watch it learn", "pixels", {"view": "training", "timeline": 1},
         do="Press Play through training (or drag the snapshot slider).",
         ask="After 10 steps of training, will the model draw garments, noise, or something in between?",
         notice="First noise, then horizontal streaks (it has learned that a pixel resembles its left neighbour), "
                "then dark backgrounds with blobs, and only after hundreds of steps garments of the class asked "
                "for, while the held-out loss keeps falling."),
    Step(5, "Diffusion: from noise, step by step", "diffusion",
         {"prompt": "a sneaker", "guidance": 3.0, "steps": 50, "sampler": "DDIM", "count": 8, "view": "sample"},
         do="Press Generate images; scrub the recorded steps under the film strip.",
         ask="At step 10 of 50, how much of the sneaker can the model already see in its x0 estimate?",
         notice="The x0 estimate shows the garment long before x_t does: the model predicts the noise to remove."),
    Step(3, "The forward process", "diffusion", {"t": 500, "view": "forward"},
         do="Move t from 0 to 999.", ask="At which t does the image become unrecognizable to you? To the model?",
         notice="The one-shot estimate recovers the garment from far more noise than our eyes can."),
    Step(3, "Guidance", "diffusion", {"prompt": "a sneaker", "guidance": 0.0, "count": 8, "view": "guidance"},
         do="Press Compare guidance.", ask="With guidance 0, will the images be sneakers?",
         notice="Guidance 0 ignores the prompt; as s grows the sneaker takes hold and the images grow alike."),
    Step(4, "GANs: one pass, and mode collapse", "gan", {"kind": "collapsed", "seed": 0, "count": 24,
                                                         "view": "samples"},
         do="Press Generate, then switch the generator to healthy and press it again.",
         ask="Will 24 different random vectors give 24 different garments?",
         notice="The collapsed generator maps most latents to the same few garments; the healthy one covers them "
                "all. One network pass per image: by far the fastest family."),
    Step(4, "Three families learn the same points", "lab", {"dataset": "ring", "race_steps": 3000},
         do="Press Race; when it ends, pick the lesson 'A GAN that collapses'.",
         ask="On the ring of 8, which family will first put samples on all 8 modes?",
         notice="The autoregressive model covers them at once but can never be sharper than its bins; diffusion and "
                "the GAN take hundreds of steps. Read the table: diffusion pays 50 network evaluations per sample, "
                "the GAN 1, and a GAN whose generator outruns its discriminator never covers the ring."),
]
ASSUMED_MINUTES = 45


def plan_markdown() -> str:
    """The plan as one page: each step's time, link, what to press, what to ask and what to point at."""
    start, parts = 0, [f"A {ASSUMED_MINUTES}-minute class across every tab. Each link opens its tab with the "
                       "step's settings; ask the question before anyone presses the button."]
    for number, step in enumerate(PLAN, 1):
        parts.append(f"### {number}. {step.title} ({start}-{start + step.minutes} min)\n"
                     f"[Open it]({step.link()}) · **Do:** {step.do}  \n**Ask first:** {step.ask}  \n"
                     f"**Then point at:** {step.notice}")
        start += step.minutes
    parts.append(f"### Last {ASSUMED_MINUTES - start} minutes: compare\n[Open Compare](?tab=compare) and press "
                 "**Race**: which family was fastest, which needed the most network evaluations, and which drew the "
                 "class it was asked for?")
    return "\n\n".join(parts)


def build_tab(page: gr.Blocks) -> dict:
    """The plan (call inside gr.Blocks); a link shares no controls here."""
    gr.Markdown(plan_markdown(), elem_id="lesson-plan")
    return {}


TAB = FamilyTab(id="plan", label="Lesson plan", build=build_tab)
