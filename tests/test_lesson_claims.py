"""Every lesson's claim, checked on what its run shows: each lesson's settings (over its tab's defaults) go through the
same family function the lesson runs, and the words of its answer must hold on the result."""
import pytest
import torch

from genmodels.diffusion import requests as diffusion
from genmodels.gan import requests as gan
from genmodels.lab import requests as lab
from genmodels.pixels import requests as pixels
from genmodels.text import requests as text
from genmodels.ui.diffusion import layout as diffusion_tab
from genmodels.ui.gan import layout as gan_tab
from genmodels.ui.lab import layout as lab_tab
from genmodels.ui.pixels import layout as pixels_tab
from genmodels.ui.text import layout as text_tab
from tests.conftest import cpu_one_thread

pytestmark = pytest.mark.slow  # the diffusion lessons sample 8 to 16 images of 50 to 100 steps
KING = text_tab.EXAMPLE_PROMPTS["A king's command"]
VERSE = text_tab.EXAMPLE_PROMPTS["A line of verse"]


def lesson(lessons, title: str) -> dict:
    return next(item for item in lessons if item.title == title).values


def step(prompt=KING, **values) -> dict:
    """The Next token view for these settings (the text tab's defaults: temperature 0.8, top-p 0.95, seed 0)."""
    settings = {"temperature": 0.8, "top_k": 0, "top_p": 0.95, "seed": 0} | values
    return text.next_token(text.NextTokenRequest.build(prompt=prompt, **settings)).view


def test_temperature_0_leaves_one_candidate_whatever_the_seed():
    values = lesson(text_tab.LESSONS, "Temperature 0 is greedy")
    first, second = step(**values), step(**(values | {"seed": 1}))
    assert first.candidates_left == 1 and first.token == second.token
    assert first.candidates[0]["sampled"]  # the most likely token, drawn


def test_top_p_keeps_a_handful_and_its_cut_adapts_to_the_step():
    values = lesson(text_tab.LESSONS, "Top-p 0.5 vs 0.95")
    kept = {prompt: (step(prompt, **values).candidates_left, step(prompt, **(values | {"top_p": 0.95})).candidates_left)
            for prompt in (KING, VERSE)}
    assert all(half < wide for half, wide in kept.values())
    assert kept[KING][1] != kept[VERSE][1]  # the same p keeps different numbers of tokens on different steps


def test_high_temperature_flattens_the_distribution():
    view = step(**lesson(text_tab.LESSONS, "High temperature"))
    assert view.entropy_bits > view.model_entropy_bits + 1


def test_top_k_5_keeps_five():
    assert step(**lesson(text_tab.LESSONS, "Top-k 5")).candidates_left == 5


def draw(**values) -> pixels.PixelResult:
    """Pixel images for these settings over the pixel tab's defaults (Sneaker, seed 0)."""
    return pixels.sample(pixels.PixelRequest.build(**({"label": "Sneaker", "seed": 0} | values)))


def spread(images: torch.Tensor) -> float:
    """Mean absolute gray-level difference between every pair of images."""
    x = images.float()
    return torch.stack([(x[i] - x[j]).abs().mean() for i in range(len(x)) for j in range(i)]).mean().item()


def test_pixel_temperature_0_draws_identical_blocks_the_judge_declines():
    values = lesson(pixels_tab.LESSONS, "Temperature 0: the argmax everywhere")
    result = draw(**values)
    assert all(torch.equal(image, result.images[0]) for image in result.images)
    assert not any(v["recognizable"] for v in result.judge)
    guided = draw(**(values | {"guidance": pixels.DEFAULT_GUIDANCE, "count": 1}))
    assert guided.judge[0]["recognizable"] and guided.judge[0]["class"] == "Sneaker"


def test_low_temperature_images_vary_less():
    values = lesson(pixels_tab.LESSONS, "Low temperature")
    assert spread(draw(**values).images) < spread(draw(**(values | {"temperature": 1.0})).images)


def test_any_class_draws_a_mix():
    result = draw(**lesson(pixels_tab.LESSONS, "Any class"))
    assert len({v["class"] for v in result.judge if v["recognizable"]}) >= 3


def test_guidance_off_names_fewer_of_the_asked_class():
    values = lesson(pixels_tab.LESSONS, "Guidance off")
    assert values["guidance"] == 1 and pixels.DEFAULT_GUIDANCE > 1

    def named(result: pixels.PixelResult) -> int:
        return sum(v["recognizable"] and v["class"] == values["label"] for v in result.judge)

    plain, guided = draw(**values), draw(**(values | {"guidance": pixels.DEFAULT_GUIDANCE}))
    assert named(plain) < named(guided)
    assert plain.network_evaluations == 784 and guided.network_evaluations == 2 * 784


def sample(**values) -> diffusion.DiffusionResult:
    """Diffusion images for these settings over the diffusion tab's defaults (a sneaker, 8 images, seed 0)."""
    defaults = {"prompt": diffusion_tab.DEFAULT_PROMPT, "guidance": 3.0, "steps": 50, "sampler": "DDIM", "eta": 0.0,
                "seed": 0, "count": 8}
    return diffusion.diffuse_recorded(diffusion.DiffusionRequest.build(**(defaults | values)))


def classes(result: diffusion.DiffusionResult) -> set[str]:
    return {v["class"] for v in result.verdicts if v["recognizable"]}


def correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean Pearson correlation of paired images."""
    a, b = a.flatten(1).float(), b.flatten(1).float()
    a, b = a - a.mean(1, keepdim=True), b - b.mean(1, keepdim=True)
    return ((a * b).sum(1) / (a.norm(dim=1) * b.norm(dim=1))).mean().item()


def test_guidance_0_ignores_the_prompt():
    assert len(classes(sample(**lesson(diffusion_tab.LESSONS, "Guidance 0 vs 7")))) >= 3


def test_five_ddim_steps_already_give_the_garment_that_fifty_refine():
    values = lesson(diffusion_tab.LESSONS, "Few steps vs many")
    few, many = sample(**values), sample(**(values | {"steps": 50}))
    assert sum(v["recognizable"] for v in few.verdicts) >= 6
    assert correlation(few.trajectory.images, many.trajectory.images) > 0.8  # nearly the same, only finer


def test_ddpm_changes_with_the_step_count_where_ddim_does_not():
    values = lesson(diffusion_tab.LESSONS, "DDPM vs DDIM")
    ddpm = correlation(sample(**values).trajectory.images, sample(**(values | {"steps": 50})).trajectory.images)
    ddim_values = values | {"sampler": "DDIM"}
    ddim = correlation(sample(**ddim_values).trajectory.images,
                       sample(**(ddim_values | {"steps": 50})).trajectory.images)
    assert ddpm < ddim - 0.05


def test_the_unconditional_model_draws_many_classes():
    result = sample(**lesson(diffusion_tab.LESSONS, "The unconditional model"))
    assert len(result.trajectory.images) == 16 and len(classes(result)) >= 3


def test_the_collapsed_generator_draws_a_few_convincing_classes_its_discriminator_likes_best():
    values = lesson(gan_tab.LESSONS, "Mode collapse")
    collapsed = gan.sample_grid(gan.SampleRequest.build(**values))
    healthy = gan.sample_grid(gan.SampleRequest.build(**(values | {"kind": "healthy"})))
    found = [v["class"] for v in collapsed.verdicts if v["recognizable"]]
    assert len(set(found)) <= 3 < len({v["class"] for v in healthy.verdicts if v["recognizable"]})
    assert len(found) >= 0.8 * len(collapsed.verdicts) and max(found, key=found.count) == "Shirt"  # "mostly Shirt"
    real = gan.discriminate(gan.DiscriminateRequest.build(kind="collapsed", count=64, seed=0)).real
    assert collapsed.p_real.mean() > real.mean()  # "more real than real images"


def test_the_linear_path_sags_and_the_spherical_one_does_not():
    values = lesson(gan_tab.LESSONS, "Linear vs spherical")
    paths = gan.interpolate(gan.InterpolateRequest.build(**values))
    assert min(paths.linear.norms) < 0.8 * paths.typical_norm  # "about 70% of the typical length midway"
    assert min(paths.spherical.norms) > 0.9 * paths.typical_norm


def test_image_i_depends_only_on_the_seed_and_i():
    values = lesson(gan_tab.LESSONS, "One latent, one image")
    full = gan.sample_grid(gan.SampleRequest.build(**values))
    fewer = gan.sample_grid(gan.SampleRequest.build(**(values | {"count": 3})))
    assert torch.allclose(full.images[:3], fewer.images, atol=1e-5)
    other = gan.sample_grid(gan.SampleRequest.build(**(values | {"seed": 8})))
    assert not torch.allclose(full.images, other.images)


def lab_lesson(title: str):
    """The 2-D lab after a lesson's run: new models with its settings, then its training, as the page runs it."""
    values = dict(lesson(lab_tab.LESSONS, title))
    families, steps = values.pop("families"), values.pop("steps")
    with cpu_one_thread():
        *_, last = lab.train_lab(None, lab.LabStepRequest.build(families=families, steps=steps, **values))
    return last.snapshot.families


def test_the_autoregressive_model_covers_every_mode_first():
    families = lab_lesson("Who covers every mode first?")
    assert families["autoregressive"].covered_at == 50
    assert all(families[f].covered_at is not None and families[f].covered_at > 50 for f in ("diffusion", "gan"))
    assert families["diffusion"].nfe_per_sample > families["autoregressive"].nfe_per_sample > families["gan"].nfe_per_sample


def test_two_sampling_steps_miss_every_mode_that_fifty_cover():
    view = lab_lesson("Too few sampling steps")["diffusion"]
    assert view.measures.modes_covered == 0 and view.measures.in_modes < 0.1
    lab_values = dict(lesson(lab_tab.LESSONS, "Too few sampling steps")) | {"diffusion_steps": 50}
    with cpu_one_thread():
        session = lab.Lab(lab.lab_settings(**{k: v for k, v in lab_values.items() if k not in ("families", "steps")}))
        list(session.train(("diffusion",), 1500))
    assert session.snapshot().families["diffusion"].measures.modes_covered == 8


def test_a_coarse_grid_covers_at_most_two_modes():
    view = lab_lesson("A coarse grid")["autoregressive"]
    assert view.measures.modes_covered <= 2 and view.measures.in_modes < 0.1


def test_the_fast_generator_covers_at_most_one_mode_at_any_redraw():
    view = lab_lesson("A GAN that collapses")["gan"]
    assert max(view.progress["modes_covered"]) <= 1
