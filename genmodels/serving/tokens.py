"""The token engine: continuous batching for the GPT family (the text model and the pixel transformer).

Every active row has its own slot in one shared KV cache and its own position; a tick feeds each row its last
token at its position in one `decode_at` pass (rows of different prompt lengths side by side), applies every row's
own temperature, top-k and top-p to all rows at once (with the distributions the page shows), and draws every
row's token in one argmax from the noise each job draws from its own generator: the tokens `generate_tokens` draws
alone. Active rows stay packed at the front of the cache, so a tick reads a view, not a copy: a leaving job's rows
are filled by moving the last rows down. A prompt is read (prefilled) alone when its job joins (the prompts of jobs
that join together on every core), and again from its last half context when its rows' cache is full, as
`generate_tokens` does. On CUDA a tick replays a CUDA graph recorded for the
next bucketed batch size (1, 2, 4, ...), padding rows being free rows. On the CPU a tick runs `decode_at` traced
with TorchScript (TracedDecode), unless GENMODELS_TRACED=0; then a tick whose rows all stand at one position (a lone
job, or jobs that started together) takes the model's plain cached step, which skips the per-row masks.
"""
import os
import warnings
from dataclasses import dataclass
from functools import partial

import torch

from genmodels.fastpath import FAST_PATH, StaticCall
from genmodels.serving.engine import (Engine, Job, core_helpers, each_on_a_core, on_every_core, row_parts,
                                      runs_reading_alike, splits)
from genmodels.text.gpt import KVCache
from genmodels.text.sampling import Guidance, TokenStep, check_settings, first_argmax, prompt_rows


TRACED_ENV = "GENMODELS_TRACED"  # "0": a CPU tick runs the model's eager step
NOISE_ELSEWHERE = 8192  # a shared tick's noise is drawn on another core from this many values (a text tick's
# vocabulary), where drawing outweighs handing it over; a pixel tick's few gray levels are drawn here


class TracedDecode(torch.nn.Module):
    """The model's `decode_at` with its cache given as tensors, for torch.jit.trace. One recording serves every row
    count and cache length (it records the shapes' arithmetic, not their values), and a call runs in TorchScript's
    interpreter: about a hundred operations without a trip through Python each, so a tick costs less and leaves the
    GIL to the other requests' threads for longer."""

    def __init__(self, model: torch.nn.Module):
        super().__init__()
        self.model = model

    def forward(self, tokens, slots, keys, values, condition):
        return self.model.decode_at(tokens, slots, KVCache.over(keys, values, condition))


@dataclass
class TokenJob:
    """A generation's settings and progress: `rows` continuations of one prompt, drawn from one generator."""
    history: torch.Tensor  # (B, T) the tokens so far (the last `block` of them), on the model's device
    max_new_tokens: int
    temperature: float
    top_k: int
    top_p: float
    generator: torch.Generator | None
    position: int = 0  # tokens in the rows' cache
    index: int = 0  # the next step's index
    pending: torch.Tensor | None = None  # (B, V) logits from a prefill, to draw the next token from
    last: list[int] | None = None  # each row's last drawn token, fed at the next tick
    guidance: Guidance | None = None  # guided: the job's second half of rows are its drawn rows' twins
    read: tuple | Exception | None = None  # its prompt read ahead of `start` (a scratch cache and logits), or why not


def bucket(rows: int) -> int:
    """The recorded batch size a tick of `rows` rows runs at: the next power of two."""
    return 1 << (rows - 1).bit_length()


def drawn_slots(job: Job) -> list[int]:
    """The engine rows whose tokens `job` draws, in its own row order: all of them, or a guided job's first half."""
    return job.slots if job.state.guidance is None else job.slots[:job.rows // 2]


def drawn_rows(job: Job) -> slice | list[int]:
    """drawn_slots as an index: a slice (a view, no copy) when they lie in order."""
    slots = drawn_slots(job)
    first = slots[0]
    return slice(first, first + len(slots)) if slots == list(range(first, first + len(slots))) else slots


class TokenEngine(Engine):
    """Continuous batching over one GPT-like model: `model(ids, cache)` prefills and `model.decode_at` steps."""

    def __init__(self, model: torch.nn.Module, config, capacity: int, name: str):
        super().__init__(capacity)
        self.model, self.config, self.name = model, config, name
        self.device = next(model.parameters()).device
        self.dtype = next(model.parameters()).dtype
        self.pool = KVCache(config, capacity, self.device, self.dtype)  # (L, capacity, H, S, D) keys and values
        self.owners: list[tuple[Job, int]] = []  # row -> (job, the job's row index); rows in use are the first
        self.graphs: dict[int, StaticCall] = {}  # bucketed batch size -> recorded decode step (CUDA)
        self.traced = None  # the CPU's traced decode step, recorded at the first tick that needs it
        self.trace_cpu = self.device.type == "cpu" and os.environ.get(TRACED_ENV, "1").strip() != "0"
        # a model without a class condition adds zeros, so one recording fits both kinds: x + 0 is exactly x
        self.no_condition = torch.zeros(capacity, 1, config.n_embd, device=self.device, dtype=self.dtype)
        self.helpers = core_helpers(f"{name}-part")

    def reset(self) -> None:
        self.owners.clear()

    def read_prompt(self, job: Job) -> tuple[KVCache, torch.Tensor]:
        """The job's history read into a scratch cache of its own, and the logits after it (B, V)."""
        scratch = KVCache(self.config, job.rows, self.device, self.dtype)
        return scratch, self.model(job.state.history, scratch)[:, -1]

    def prefill(self, job: Job, read: tuple[KVCache, torch.Tensor] | None = None) -> None:
        """Store the job's history, read now or beforehand, in its rows' cache; its next token is drawn from the
        logits this leaves."""
        state: TokenJob = job.state
        scratch, logits = read or self.read_prompt(job)
        slots = torch.tensor(job.slots, device=self.device)
        length = state.history.shape[1]
        self.pool.keys[:, slots, :, :length] = scratch.keys[:, :, :, :length]
        self.pool.values[:, slots, :, :length] = scratch.values[:, :, :, :length]
        if scratch.condition is not None:
            if self.pool.condition is None:
                self.pool.condition = torch.zeros(self.capacity, *scratch.condition.shape[1:], device=self.device,
                                                  dtype=scratch.condition.dtype)  # (capacity, 1, C)
            self.pool.condition[slots] = scratch.condition
        state.position, state.pending = length, logits

    def start_jobs(self, jobs: list[Job]) -> None:
        """Engine's start_jobs, the prompts of jobs that join together read beforehand, one run of jobs per core:
        reading writes only a job's own scratch cache, and `start` stores it in the shared one."""
        if len(jobs) > 1:
            each_on_a_core(self.helpers, self.read_prompts, [(jobs[part],) for part in row_parts(len(jobs))])
        super().start_jobs(jobs)

    @torch.inference_mode()
    def read_prompts(self, jobs: list[Job]) -> None:
        for job in jobs:
            try:
                job.state.read = self.read_prompt(job)
            except Exception as error:  # raised again when the job starts, to fail it alone
                job.state.read = error

    def start(self, job: Job) -> None:
        check_settings(job.state.temperature, job.state.top_k, job.state.top_p)  # a bad value fails this job alone
        first = len(self.owners)
        job.slots = list(range(first, first + job.rows))
        self.owners.extend((job, i) for i in range(job.rows))
        read, job.state.read = job.state.read, None
        if isinstance(read, Exception):
            raise read
        with torch.inference_mode():
            self.prefill(job, read)

    def release(self, job: Job) -> None:
        """Free the job's rows, moving the last rows in use into the holes so the rows in use stay packed."""
        with torch.inference_mode():  # the pool's tensors are written under inference mode everywhere
            for slot in sorted(job.slots, reverse=True):
                if slot >= len(self.owners) or self.owners[slot][0] is not job:
                    continue
                last = len(self.owners) - 1
                if slot != last:
                    mover, index = self.owners[last]
                    self.pool.keys[:, slot] = self.pool.keys[:, last]
                    self.pool.values[:, slot] = self.pool.values[:, last]
                    if self.pool.condition is not None:
                        self.pool.condition[slot] = self.pool.condition[last]
                    self.owners[slot] = (mover, index)
                    mover.slots[index] = slot
                self.owners.pop()
        job.slots = []

    def forward(self, jobs: list[Job]) -> TokenStep:
        """The tick's step over every row in use, with each row's own settings (its distributions are computed in
        advance_jobs): the model's logits for each row's last token at its position, or a prefill's logits where a
        job just read its prompt (its rows are then fed a dummy token at a slot that is rewritten before it is
        read)."""
        with torch.inference_mode():
            pending = [job.state.pending for job in jobs if job.state.pending is not None]
            if len(pending) == len(jobs):  # the model's output width: a pixel model's is its gray levels
                logits = torch.empty(len(self.owners), pending[0].shape[-1], device=self.device)
            else:
                logits = self.step_logits(shared=len(jobs) > 1).float()  # (rows, V)
            for job in jobs:
                if job.state.pending is not None:
                    logits[job.slots] = job.state.pending.float()
                if job.state.guidance is not None:  # the drawn rows sample from the mix; their twins' rows idle
                    logits[drawn_slots(job)] = job.state.guidance.mix(logits[job.slots])
            if len(jobs) == 1:  # alone: its own step, its distributions computed when read, as generate_tokens does
                state = jobs[0].state
                return TokenStep(state.index, logits[drawn_rows(jobs[0])], state.temperature, state.top_k, state.top_p)
            states = [job.state for job, _ in self.owners]  # each row's job's settings
            settings = {name: [getattr(state, name) for state in states] for name in ("temperature", "top_k", "top_p")}
            # a setting every row shares goes as one number, so the rules skip what changes nothing (T = 1, no top-k,
            # p = 1) as they do for a request alone
            per_row = {name: values[0] if len(set(values)) == 1 else torch.tensor(values, device=self.device)
                       for name, values in settings.items()}
            return TokenStep(-1, logits, **per_row)

    def step_logits(self, shared: bool = False) -> torch.Tensor:
        """Logits (rows in use, V) for every row's last token at its position; `shared`: the tick steps two or more
        jobs (a lone job's step stays whole)."""
        last_slot = self.config.block_size - 1
        tokens, positions = [], []
        for job, index in self.owners:
            state: TokenJob = job.state
            tokens.append(0 if state.pending is not None else state.last[index])
            positions.append(min(state.position, last_slot))
        tokens = torch.tensor(tokens, device=self.device)[:, None]  # (rows, 1)
        rows = len(tokens)
        if FAST_PATH.enabled(self.device):
            return self.replay(tokens, torch.tensor(positions, device=self.device))
        if self.trace_cpu:
            return self.traced_step(tokens, torch.tensor(positions, device=self.device), shared)
        if len(set(positions)) == 1:  # every row at one position (a lone job, say): the plain cached step
            view = self.pool.head(rows)
            view.position = positions[0]
            return self.model(tokens, view)[:, 0]  # (rows, V)
        slots = torch.tensor(positions, device=self.device)  # (rows,)
        view = self.pool.head(rows, max(positions) + 1)
        return self.model.decode_at(tokens, slots, view)[:, 0]  # (rows, V)

    def traced_step(self, tokens: torch.Tensor, slots: torch.Tensor, shared: bool = False) -> torch.Tensor:
        """Logits (rows, V) from the traced decode step. A shared tick of many rows is split into one part per core,
        each on its own thread (the caller's and the engine's helpers), as the U-Net's is: the server gives each
        request one torch thread, so one pass would use one core while every job in it waits. A part attends as far
        as its furthest row (a pixel image's keys and values are most of a tick's reading), and the parts are cut
        to read about as much."""
        if self.traced is None or not shared or not splits(len(tokens)):
            return self.traced_part(0, tokens, slots, int(slots.max()) + 1)
        reach = slots.tolist()
        parts = [(rows.start, tokens[rows], slots[rows], max(reach[rows]) + 1) for rows in runs_reading_alike(reach)]
        return on_every_core(self.helpers, self.traced_part, parts)

    @torch.inference_mode()
    def traced_part(self, start: int, tokens: torch.Tensor, slots: torch.Tensor, length: int) -> torch.Tensor:
        """Logits (rows, V) of the rows from `start` from the traced decode step over their cache's first `length`
        slots; the first call records it (and its run writes the cache as every later one does)."""
        view = self.pool.head(len(tokens), length, start)
        condition = view.condition if view.condition is not None else self.no_condition[start:start + len(tokens)]
        inputs = (tokens, slots, view.keys, view.values, condition)
        if self.traced is None:
            with warnings.catch_warnings():  # of shape arithmetic, which the tests check it follows, and of
                warnings.simplefilter("ignore")  # tracing's future in torch, whose replacements cost a compiler
                self.traced = torch.jit.trace(TracedDecode(self.model), inputs, check_trace=False)
        return self.traced(*inputs)[:, 0]  # (rows, V)

    def replay(self, tokens: torch.Tensor, slots: torch.Tensor) -> torch.Tensor:
        """The decode step at the bucketed batch size, recorded once per size (on CUDA; static buffers elsewhere)."""
        rows, size = len(tokens), min(bucket(len(tokens)), self.capacity)
        padded_tokens = torch.zeros(size, 1, dtype=torch.long, device=self.device)
        padded_slots = torch.zeros(size, dtype=torch.long, device=self.device)
        padded_tokens[:rows], padded_slots[:rows] = tokens, slots
        if size not in self.graphs:
            step = partial(self.model.decode_at, cache=self.pool.head(size))
            self.graphs[size] = StaticCall(step, padded_tokens, padded_slots)
        return self.graphs[size](padded_tokens, padded_slots)[:rows, 0]  # (rows, V)

    def advance_jobs(self, jobs: list[Job], tick: TokenStep) -> None:
        """A shared tick draws every row's token at once: the jobs' noise on another core while this one computes
        the distributions (one long operation per job, which leaves Python's lock free), then one argmax."""
        if tick.index == -1:
            with torch.inference_mode():
                if tick.logits.numel() >= NOISE_ELSEWHERE:
                    drawing = self.helpers.submit(self.noise, jobs, tick.logits)
                    tick.compute_all()
                    noise, failed = drawing.result()
                else:
                    noise, failed = self.noise(jobs, tick.logits)
                tick.token = first_argmax(tick.probs / noise)  # (rows,)
            for job, error in failed:
                job.fail(error)
            jobs = [job for job in jobs if not job.done]
        super().advance_jobs(jobs, tick)

    @torch.inference_mode()
    def noise(self, jobs: list[Job], logits: torch.Tensor) -> tuple[torch.Tensor, list[tuple[Job, Exception]]]:
        """The noise (rows, V) each job's TokenStep.draw would draw for its rows alone, from its own generator (the
        same numbers), and 1 where a job is greedy (it draws none: its rows' one survivor wins); the jobs whose
        generator failed, with why."""
        noise, failed = torch.ones_like(logits), []
        for job in jobs:
            if job.state.temperature != 0:
                rows = drawn_rows(job)
                try:
                    noise[rows] = torch.empty_like(noise[rows]).exponential_(generator=job.state.generator)
                except Exception as error:
                    failed.append((job, error))
        return noise, failed

    def advance(self, job: Job, tick: TokenStep) -> None:
        state: TokenJob = job.state
        if state.pending is not None:
            state.pending = None
        else:
            state.position += 1
        with torch.inference_mode():
            if tick.index == state.index:  # the job ticked alone: forward made the tick's step its own
                step = tick.draw(state.generator)
            else:  # a shared tick's step (index -1): this job's rows of it, with their distributions and tokens
                step = tick.rows(drawn_rows(job), state.index, state.temperature, state.top_k, state.top_p)
            job.emit(step)
            state.index += 1
            fed = step.token.repeat(job.rows // len(step.token))  # (rows,) a guided row's twin reads its token
            state.last = fed.tolist()
            if state.index == state.max_new_tokens:
                job.finish()
                return
            block = self.config.block_size
            state.history = torch.cat([state.history, fed[:, None]], dim=1)[:, -block:]  # (rows, <= block)
            if state.position >= block:  # full: start again from recent tokens, as generate_tokens does
                state.history = state.history[:, -(block // 2):]
                self.prefill(job)

    def generate(self, prompt_ids: list[int], max_new_tokens: int, temperature: float = 1.0, top_k: int = 0,
                 top_p: float = 1.0, generator: torch.Generator | None = None, batch_size: int = 1,
                 guidance: Guidance | None = None):
        """generate_tokens through the engine: a TokenStep per new token for `batch_size` continuations (each with
        its unconditional twin when guided)."""
        rows = prompt_rows(prompt_ids, batch_size, guidance)
        block = self.config.block_size
        history = torch.tensor([row[-block:] for row in rows], dtype=torch.long, device=self.device)  # (rows, T)
        state = TokenJob(history, max_new_tokens, temperature, top_k, top_p, generator, guidance=guidance)
        return self.submit(Job(len(rows), state)).stream()
