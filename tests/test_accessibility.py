"""Accessibility that can be checked without a browser: labels, alt text, color-blind-safe colors, equations."""
import re
from pathlib import Path

import gradio as gr
import pytest

from genmodels.ui import build_demo
from genmodels.ui.equations import FAMILIES

UI = Path(__file__).resolve().parents[1] / "genmodels" / "ui"
OKABE_ITO = {"#000000", "#E69F00", "#56B4E9", "#009E73", "#F0E442", "#0072B2", "#D55E00", "#CC79A7"}
NEUTRALS = {"#BBBBBB", "#FFFFFF"}
SAFE_COLORSCALES = {"Cividis", "Viridis", "PuOr", "PuOr_r"}  # perceptually ordered and readable without red-green
CONTROLS = (gr.Textbox, gr.Slider, gr.Number, gr.Radio, gr.Dropdown, gr.Checkbox)


@pytest.fixture(scope="module")
def blocks():
    return list(build_demo().blocks.values())


def test_every_control_has_a_visible_label(blocks):
    controls = [b for b in blocks if isinstance(b, CONTROLS)]
    assert len(controls) > 60
    unlabelled = [b for b in controls if not b.label or b.show_label is False]
    assert unlabelled == []


def test_every_image_has_alt_text_and_downloads_as_png(blocks):
    images = [b for b in blocks if isinstance(b, gr.Image)]
    assert len(images) > 15
    assert [b.label for b in images if not b.alt_text] == []
    assert [b.label for b in images if b.type == "pil" and b.format != "png"] == []
    assert [b.label for b in blocks if isinstance(b, gr.Gallery) and b.format != "png"] == []


def test_colors_come_from_a_color_blind_safe_palette():
    source = "\n".join(path.read_text() for path in UI.glob("*.py"))
    colors = {c.upper() for c in re.findall(r"#[0-9A-Fa-f]{6}\b", source)}
    assert colors and colors <= OKABE_ITO | NEUTRALS, colors - OKABE_ITO - NEUTRALS
    scales = set(re.findall(r'colorscale="(\w+)"', source))
    assert scales and scales <= SAFE_COLORSCALES, scales - SAFE_COLORSCALES


@pytest.mark.parametrize("family, forms", [
    ("text", [r"\prod_{i=1}^{n} P(x_i \mid x_{<i})", r"e^{z_v / T}", r"\sum_{v \in V_p} p_v \ge p"]),
    ("diffusion", [r"x_t = \sqrt{1 - \beta_t}\, x_{t-1} + \sqrt{\beta_t}\, \epsilon",
                   r"x_t = \sqrt{\bar\alpha_t}\, x_0 + \sqrt{1 - \bar\alpha_t}\, \epsilon",
                   r"\bar\alpha_t = \prod_{s=1}^{t} (1 - \beta_s)",
                   r"\hat{x}_0 = \frac{x_t - \sqrt{1 - \bar\alpha_t}\, \hat\epsilon}{\sqrt{\bar\alpha_t}}",
                   "only at $t = 1$"]),
    ("gan", [r"V(D, G) = \; & \mathbb{E}_{x \sim p_\text{data}} [\log D(x)] \\",
             r"& + \mathbb{E}_{z} [\log (1 - D(G(z)))]",
             r"\mathcal{L}_G = -\mathbb{E}_{z} [\log D(G(z))]", r"\mathrm{slerp}"]),
    ("pixels", [r"P(x \mid c) = \prod_{i=1}^{784} P(x_i \mid x_{<i}, c)"]),
    ("compare", [r"\|\mu_r - \mu_g\|^2 + \mathrm{Tr}\big(\Sigma_r + \Sigma_g - 2 (\Sigma_r \Sigma_g)^{1/2}\big)"]),
])
def test_each_family_s_equations_are_in_their_correct_form(family, forms):
    for form in forms:
        assert form in FAMILIES[family], form


def test_each_family_tab_has_a_closed_equations_section(blocks):
    sections = {b.elem_id: b for b in blocks if isinstance(b, gr.Accordion) and b.label == "The equations"}
    assert set(sections) == {f"{family}-equations" for family in FAMILIES}
    assert not any(section.open for section in sections.values())
