"""Ours against the usual tools on the same weights: transformers' GPT-NeoX and generate(), diffusers' DDIMScheduler."""
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from genmodels.diffusion.generate import conditioning, start_noise
from genmodels.diffusion.pretrained import load_diffusion_model
from genmodels.fastpath import FAST_PATH
from genmodels.text.gpt import GPT, GPTConfig
from genmodels.text.pretrained import load_text_model
from genmodels.text.sampling import sample_tokens
from genmodels.text.tokenizer import encode
from genmodels.tools.peers import (
    compare_diffusion,
    compare_text,
    ddim_diffusers,
    ddim_ours,
    ddim_scheduler,
    greedy_transformers,
    installed_version,
    machine,
    table,
    to_transformers,
)

pytestmark = pytest.mark.usefixtures("one_thread")
ROOT = Path(__file__).resolve().parents[1]
PROMPT = "HAMLET.\nTo be, or not to be, that is the question:\n"


def random_gpt() -> GPT:
    """A small GPT with every weight random and large (LayerNorm scales and shifts too), so a swapped or
    misordered tensor in the export shows in the logits."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32))
    with torch.no_grad():
        for param in model.parameters():
            param.normal_(0.0, 0.3)
    return model.eval()


def test_export_gives_the_same_logits_on_a_random_gpt():
    model = random_gpt()
    ids = torch.randint(0, 64, (2, 16), generator=torch.Generator().manual_seed(1))
    with torch.inference_mode():
        ours, theirs = model(ids), to_transformers(model)(ids).logits
    assert ours.std() > 0.5  # logits that vary, so the comparison means something
    torch.testing.assert_close(theirs, ours, atol=1e-4, rtol=1e-4)


def test_greedy_generation_equals_transformers_generate_on_the_committed_gpt():
    tm = load_text_model()
    ids = [tm.start_id] + encode(tm.tokenizer, PROMPT)
    theirs = to_transformers(tm.model)
    with torch.inference_mode():
        prompt = torch.tensor([ids])
        assert (tm.model(prompt) - theirs(prompt).logits).abs().max() < 1e-4
    for batch in (1, 3):
        ours = sample_tokens(tm.model, ids, 24, temperature=0.0, batch_size=batch)
        assert torch.equal(ours, greedy_transformers(theirs, ids, 24, batch))
    assert len(set(ours[0].tolist())) > 3


def test_ddim_equals_diffusers_scheduler_driving_our_unet():
    """Same start noise, guidance and timesteps: the same images; a different guidance scale visibly differs."""
    dm = load_diffusion_model()
    scheduler = ddim_scheduler(dm, 4)
    timesteps = scheduler.timesteps.tolist()
    assert timesteps == [999, 749, 499, 249]
    x_T, (cond, uncond) = start_noise(3, 2, "cpu"), conditioning(dm, "a pair of trousers", 2)
    theirs = ddim_diffusers(dm.unet, scheduler, x_T, cond, uncond, 3.0)
    assert (ddim_ours(dm.unet, dm.schedule, x_T, cond, uncond, 3.0, timesteps) - theirs).abs().max() < 1e-4
    assert (ddim_ours(dm.unet, dm.schedule, x_T, cond, uncond, 1.0, timesteps) - theirs).abs().max() > 1e-2
    assert (theirs - x_T).abs().max() > 0.5


def test_peers_benchmark_reports_both_families_and_a_table():
    text = compare_text(prompt_tokens=8, new_tokens=8, batches=(1, 2), repeats=1)
    diffusion = compare_diffusion(steps=2, batches=(1,), repeats=1)
    result = {"machine": machine(torch.device("cpu")), "text": text, "diffusion": diffusion}
    assert text["prompt_tokens"] == 8 and text["max_abs_logit_diff"] < 1e-4
    assert [r["batch"] for r in text["rows"]] == [1, 2] and all(r["identical"] for r in text["rows"])
    assert all(r["ours_tokens_per_second"] > 0 and r["transformers_tokens_per_second"] > 0 for r in text["rows"])
    [row] = diffusion["rows"]
    assert row["max_abs_diff"] < 1e-4 and row["ours_ms"] > 0 and row["diffusers_ms"] > 0
    assert 0 < diffusion["loop_ms_per_step"]["ours"] < row["ours_ms"] / 2  # the stand-in U-Net costs next to nothing
    lines = table(result).splitlines()
    assert result["machine"]["torch"] in lines[0] and len(lines) == 1 + 2 + 2 + 2 + 1 + 1
    with pytest.raises(ValueError):
        compare_text(prompt_tokens=32, new_tokens=120, batches=(1,), repeats=1)  # past the 128-token context


def test_diffusers_comparison_alone_and_through_the_static_path():
    with FAST_PATH.forced_static():  # what a GPU compares: the recorded denoiser pass, here without the recording
        diffusion = compare_diffusion(steps=4, batches=(2,), repeats=1)  # 1000 / 4: both end at clean data
        result = {"machine": machine(torch.device("cpu")), "diffusion": diffusion}
    assert diffusion["rows"][0]["max_abs_diff"] < 1e-4
    assert len(table(result).splitlines()) == 1 + 2 + 1 + 1 and "static buffers" in table(result)
    assert installed_version("no-such-package-here") is None


def test_peers_module_imports_without_transformers_or_diffusers():
    code = ("import sys; sys.modules.update(transformers=None, diffusers=None); "
            "import genmodels.tools.peers, genmodels.tools.bench")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
