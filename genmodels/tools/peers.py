"""Our samplers against the usual tools on the same weights: `python -m genmodels.tools.bench peers` (dev dependencies).

Text: generate_tokens against Hugging Face transformers' greedy generate(), with our GPT's weights exported into
GPTNeoXForCausalLM, the class with our exact architecture: LayerNorm before attention and MLP in sequence, exact-GELU
MLP, fused q/k/v, rotary positions over every channel in two halves, tied embeddings (its MLP biases are set to 0).
Diffusion: our DDIM loop against diffusers' DDIMScheduler driving our U-Net as its pipelines do, with the same start
noise and guidance. Its step takes t_prev = t - T // steps, which cannot walk our respaced list (gaps of 20 and 21 at
50 steps), so both walk its evenly spaced "trailing" list [999, 979, ..., 19]; ddim_steps takes any decreasing list.
transformers and diffusers are imported inside the functions that use them, so the app never needs them.
"""
import platform
from datetime import date
from importlib.metadata import PackageNotFoundError, version
from typing import Callable

import torch

from genmodels.diffusion.generate import conditioning, start_noise
from genmodels.diffusion.pretrained import DiffusionModel, load_diffusion_model, make_denoiser
from genmodels.diffusion.samplers import sample_ddim
from genmodels.diffusion.schedule import NoiseSchedule
from genmodels.runtime import device_name, pick_device, timer
from genmodels.text.gpt import GPT
from genmodels.text.pretrained import load_text_model
from genmodels.text.sampling import sample_tokens
from genmodels.text.tokenizer import encode
from genmodels.tools.bench import BENCH_TEXT, fast_path_name

GPT_NEOX_NAMES = {"ln_1": "input_layernorm", "ln_2": "post_attention_layernorm",  # our block's modules -> GPT-NeoX's
                  "attn.c_attn": "attention.query_key_value", "attn.c_proj": "attention.dense",
                  "mlp.c_fc": "mlp.dense_h_to_4h", "mlp.c_proj": "mlp.dense_4h_to_h"}
NoisePredictor = Callable[[torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]  # our UNet's (x_t, t, text) -> eps
DIFFUSERS_SCHEDULES = {"cosine": "squaredcos_cap_v2", "linear": "linear"}  # ours -> diffusers' beta_schedule


def to_transformers(model: GPT):
    """A transformers GPTNeoXForCausalLM holding `model`'s weights, in eval mode on its device: the same logits."""
    from transformers import GPTNeoXConfig, GPTNeoXForCausalLM

    c = model.config
    C, H = c.n_embd, c.n_head
    config = GPTNeoXConfig(
        vocab_size=c.vocab_size, hidden_size=C, num_hidden_layers=c.n_layer, num_attention_heads=H,
        intermediate_size=4 * C, hidden_act="gelu", max_position_embeddings=c.block_size, layer_norm_eps=model.ln_f.eps,
        use_parallel_residual=False, attention_bias=False, tie_word_embeddings=True, hidden_dropout=0.0,
        attention_dropout=0.0, rope_parameters={"rope_type": "default", "rope_theta": c.rope_base,
                                                "partial_rotary_factor": 1.0},
        bos_token_id=None, eos_token_id=None, pad_token_id=None)
    state = {"gpt_neox.embed_in.weight": model.wte.weight, "gpt_neox.final_layer_norm.weight": model.ln_f.weight,
             "gpt_neox.final_layer_norm.bias": model.ln_f.bias}
    for i, block in enumerate(model.blocks):
        for name, tensor in block.state_dict().items():
            module, kind = name.rsplit(".", 1)
            if module == "attn.c_attn":  # rows [q; k; v] -> per head [q_h; k_h; v_h]
                tensor = tensor.view(3, H, C // H, C).transpose(0, 1).reshape(3 * C, C)
            state[f"gpt_neox.layers.{i}.{GPT_NEOX_NAMES[module]}.{kind}"] = tensor
        state[f"gpt_neox.layers.{i}.mlp.dense_h_to_4h.bias"] = torch.zeros(4 * C)  # our MLP has no biases
        state[f"gpt_neox.layers.{i}.mlp.dense_4h_to_h.bias"] = torch.zeros(C)
    theirs = GPTNeoXForCausalLM(config)
    missing, unexpected = theirs.load_state_dict(state, strict=False)
    if unexpected or set(missing) != {"lm_head.weight"}:  # lm_head is tied to embed_in
        raise RuntimeError(f"GPTNeoX export mismatch: missing {missing}, unexpected {unexpected}")
    return theirs.to(model.lm_head.weight.device).eval()


def greedy_transformers(theirs, prompt_ids: list[int], new_tokens: int, batch: int) -> torch.Tensor:
    """transformers' greedy generate() from `batch` copies of the prompt: the new ids (batch, new_tokens)."""
    prompt = torch.tensor([prompt_ids] * batch, device=theirs.device)  # (B, T)
    with torch.inference_mode():
        out = theirs.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens,
                              min_new_tokens=new_tokens, do_sample=False)
    return out[:, len(prompt_ids):]


def ddim_scheduler(dm: DiffusionModel, steps: int):
    """diffusers' DDIMScheduler set up as our ddim_steps: our schedule, clipped x0, abar = 1 after the last step."""
    from diffusers import DDIMScheduler

    schedule = DIFFUSERS_SCHEDULES[dm.record["meta"]["schedule"]]
    scheduler = DDIMScheduler(num_train_timesteps=dm.schedule.T, beta_schedule=schedule, clip_sample=True,
                              clip_sample_range=1.0, set_alpha_to_one=True, steps_offset=0,
                              prediction_type="epsilon", timestep_spacing="trailing")
    scheduler.set_timesteps(steps, device=dm.unet.conv_in.weight.device)
    return scheduler


def ddim_ours(unet: NoisePredictor, schedule: NoiseSchedule, x_T: torch.Tensor, cond: torch.Tensor,
              uncond: torch.Tensor, guidance: float, timesteps: list[int]) -> torch.Tensor:
    """Our guided DDIM (eta = 0), as the app runs it: x_0 (B, 1, 28, 28) from x_T."""
    return sample_ddim(make_denoiser(unet, cond, uncond, guidance), x_T, schedule, timesteps)


@torch.inference_mode()
def ddim_diffusers(unet: NoisePredictor, scheduler, x_T: torch.Tensor, cond: torch.Tensor, uncond: torch.Tensor,
                   guidance: float) -> torch.Tensor:
    """diffusers' DDIMScheduler driving our U-Net as its pipelines' loop does: x_0 (B, 1, 28, 28) from x_T."""
    x, text = x_T * scheduler.init_noise_sigma, torch.cat([cond, uncond])  # (B, 1, 28, 28), (2B, D)
    for t in scheduler.timesteps:
        x_in = scheduler.scale_model_input(torch.cat([x, x]), t)  # (2B, 1, 28, 28)
        eps_cond, eps_uncond = unet(x_in, t.expand(len(x_in)), text).chunk(2)
        eps = eps_uncond + guidance * (eps_cond - eps_uncond)
        x = scheduler.step(eps, t, x, use_clipped_model_output=True).prev_sample
    return x


def stand_in_unet(x_t: torch.Tensor, t: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
    """A noise predictor that costs next to nothing, eps = x_t / 2: what remains is each loop's own time."""
    return 0.5 * x_t


def ddim_runs(unet: NoisePredictor, dm: DiffusionModel, scheduler, x_T: torch.Tensor, cond: torch.Tensor,
              uncond: torch.Tensor, guidance: float) -> dict:
    """Our DDIM loop and diffusers', each a call without arguments that returns x_0 (B, 1, 28, 28)."""
    timesteps = scheduler.timesteps.tolist()
    return {"ours": lambda: ddim_ours(unet, dm.schedule, x_T, cond, uncond, guidance, timesteps),
            "diffusers": lambda: ddim_diffusers(unet, scheduler, x_T, cond, uncond, guidance)}


def best_ms(runs: dict, device: torch.device, repeats: int) -> dict:
    """Fastest milliseconds of each run() over `repeats` rounds that take them in turn, after one untimed call each
    (timeit's convention: the slower rounds measure other processes, and taking turns spreads them over all runs)."""
    times = {name: [] for name in runs}
    for run in runs.values():
        run()
    for _ in range(repeats):
        for name, run in runs.items():
            with timer(device) as elapsed:
                run()
            times[name].append(elapsed.milliseconds)
    return {name: min(t) for name, t in times.items()}


def compare_text(prompt_tokens: int = 32, new_tokens: int = 96, batches=(1, 8), repeats: int = 7) -> dict:
    """Greedy tokens per second of generate_tokens and of transformers' generate() on the committed GPT."""
    tm = load_text_model()
    model, device = tm.model, tm.model.lm_head.weight.device
    ids = ([tm.start_id] + encode(tm.tokenizer, BENCH_TEXT))[:prompt_tokens]
    if len(ids) + new_tokens > model.config.block_size:  # past it ours re-reads a window, theirs runs on
        raise ValueError(f"prompt and new tokens exceed the context of {model.config.block_size}")
    theirs = to_transformers(model)
    with torch.inference_mode():
        prompt = torch.tensor([ids], device=device)
        logit_diff = (model(prompt) - theirs(prompt).logits).abs().max().item()
    rows = []
    for batch in batches:
        runs = {"ours": lambda: sample_tokens(model, ids, new_tokens, temperature=0.0, batch_size=batch),
                "transformers": lambda: greedy_transformers(theirs, ids, new_tokens, batch)}
        identical = torch.equal(runs["ours"]().cpu(), runs["transformers"]().cpu())
        ms = best_ms(runs, device, repeats)
        rows.append({"batch": batch, "identical": identical, **{
            f"{name}_tokens_per_second": round(batch * new_tokens / ms[name] * 1000, 1) for name in runs},
            "speedup": round(ms["transformers"] / ms["ours"], 2)})
    return {"params": model.num_params(), "prompt_tokens": len(ids), "new_tokens": new_tokens,
            "max_abs_logit_diff": logit_diff, "rows": rows}


def compare_diffusion(steps: int = 50, guidance: float = 3.0, batches=(1, 8), repeats: int = 5,
                      prompt: str = "a sneaker") -> dict:
    """Milliseconds of a guided DDIM sample, ours and diffusers', the largest pixel difference between them, and
    each loop's own milliseconds per step around a stand-in U-Net."""
    dm = load_diffusion_model()
    device = dm.unet.conv_in.weight.device
    scheduler = ddim_scheduler(dm, steps)
    rows = []
    for batch in batches:
        x_T, (cond, uncond) = start_noise(0, batch, device), conditioning(dm, prompt, batch)
        runs = ddim_runs(dm.unet, dm, scheduler, x_T, cond, uncond, guidance)
        difference = (runs["ours"]() - runs["diffusers"]()).abs().max().item()
        ms = best_ms(runs, device, repeats)
        rows.append({"batch": batch, "max_abs_diff": difference, **{f"{name}_ms": round(ms[name], 1) for name in runs},
                     "speedup": round(ms["diffusers"] / ms["ours"], 2)})
    stand_in = ddim_runs(stand_in_unet, dm, scheduler, x_T[:1], cond[:1], uncond[:1], guidance)
    loops = best_ms(stand_in, device, 10 * repeats)
    timesteps = scheduler.timesteps.tolist()
    return {"steps": steps, "guidance": guidance, "prompt": prompt, "timesteps": f"{timesteps[0]}..{timesteps[-1]}",
            "rows": rows, "loop_ms_per_step": {name: round(ms / steps, 3) for name, ms in loops.items()}}


def installed_version(package: str) -> str | None:
    """The package's version, None when it is not installed."""
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def machine(device: torch.device) -> dict:
    """What the figures were measured on."""
    return {"device": str(device), "device_name": device_name(device), "threads": torch.get_num_threads(),
            "torch": torch.__version__, "transformers": installed_version("transformers"),
            "diffusers": installed_version("diffusers"), "python": platform.python_version(),
            "date": date.today().isoformat(), "fast_path": fast_path_name(device)}


def compare_peers(families=("text", "diffusion"), **diffusion_sizes) -> dict:
    """Text and / or diffusion against transformers and diffusers, and the machine, as one JSON-ready dict;
    `diffusion_sizes` (steps, batches, repeats) go to compare_diffusion."""
    result = {}
    if "text" in families:
        result["text"] = compare_text()
    if "diffusion" in families:
        result["diffusion"] = compare_diffusion(**diffusion_sizes)
    return {"family": "peers", "machine": machine(pick_device()), **result}


def table(result: dict) -> str:
    """The comparison as aligned plain-text rows."""
    m = result["machine"]
    lines = [f"{m['device_name']} ({m['device']}, torch threads: {m['threads']}), torch {m['torch']}, "
             f"transformers {m['transformers']}, diffusers {m['diffusers']}, {m['date']}, {m['fast_path']}"]
    if "text" in result:
        text = result["text"]
        lines += [f"text: greedy, {text['prompt_tokens']}-token prompt + {text['new_tokens']} new tokens, "
                  f"max |logit diff| {text['max_abs_logit_diff']:.1e}",
                  f"{'batch':>5} {'ours tok/s':>11} {'transformers':>13} {'speedup':>8}  identical"]
        lines += [f"{r['batch']:>5} {r['ours_tokens_per_second']:>11.1f} {r['transformers_tokens_per_second']:>13.1f} "
                  f"{r['speedup']:>7.2f}x  {r['identical']}" for r in text["rows"]]
    if "diffusion" in result:
        diff = result["diffusion"]
        lines += [f"diffusion: {diff['steps']}-step DDIM, guidance {diff['guidance']}, timesteps {diff['timesteps']}",
                  f"{'batch':>5} {'ours ms':>11} {'diffusers ms':>13} {'speedup':>8}  max |diff|"]
        lines += [f"{r['batch']:>5} {r['ours_ms']:>11.1f} {r['diffusers_ms']:>13.1f} {r['speedup']:>7.2f}x  "
                  f"{r['max_abs_diff']:.1e}" for r in diff["rows"]]
        loop = diff["loop_ms_per_step"]
        lines.append(f"each loop's own time per step (a stand-in U-Net that costs nothing): ours {loop['ours']:.3f} "
                     f"ms, diffusers {loop['diffusers']:.3f} ms")
    return "\n".join(lines)
