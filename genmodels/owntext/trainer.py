"""A tiny character-level GPT trained live on one text: bounded in time, cancellable, reproducible from a seed.

The model is genmodels.text.gpt.GPT at toy size, trained with AdamW on random windows of the text's training part.
Every SNAPSHOT_SECONDS it measures bits per character alike (dropout off) on the start of the training part and on
the held-out end, and draws a short sample from a fixed seed, so a chart and the samples show it learn.

Everything runs on the CPU: a step of this size gains nothing from a GPU, and each session holds its own model. A
training runs on the caller's thread with the caller's torch threads (the app runs one per request: app.py sets
OMP_NUM_THREADS=1); nothing here changes thread settings, which torch shares across the process.
"""
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from genmodels.owntext.corpus import Corpus
from genmodels.runtime import make_generator
from genmodels.text.explain import StepView, view_step
from genmodels.text.gpt import GPT, GPTConfig
from genmodels.text.sampling import TokenStep, generate_tokens, token_surprisals

DEFAULT_SECONDS = 45
MAX_SECONDS = 120  # one training's wall time, snapshots included; a session starts again to train longer
SNAPSHOT_SECONDS = 2.0  # measures and a sample this often: 0.11-0.15 s each, 6-7% of the training time
BATCH_SIZE = 32
LEARNING_RATE = 3e-3
WARMUP_STEPS = 30
GRAD_CLIP = 1.0
EVAL_CHARS = 2_000  # each measure reads at most this many characters: a whole held-out part of MAX_CHARS
SAMPLE_CHARS = 120
SAMPLE_TEMPERATURE = 0.8


def tiny_config(vocab_size: int) -> GPTConfig:
    """The model every session trains: 227k parameters, words within seconds on one CPU thread (19 steps/s)."""
    # No dropout: on a few thousand characters it only delayed memorizing, it cost 30% of the steps (measured), and
    # its masks come from torch's global generator, which would make two trainings at once irreproducible.
    return GPTConfig(vocab_size=vocab_size, block_size=64, n_layer=2, n_head=4, n_embd=96, dropout=0.0)


def seeded_init(model: GPT, generator: torch.Generator) -> GPT:
    """GPT's own init (N(0, 0.02), residual projections scaled by 1/sqrt(2 n_layer)) drawn again from `generator`:
    GPT draws from torch's global generator, which every session's thread shares, so a seed alone would not do."""
    projection_std = 0.02 / math.sqrt(2 * model.config.n_layer)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() == 2:  # Linear and Embedding weights; LayerNorms keep their ones and zeros
                param.normal_(0.0, projection_std if name.endswith("c_proj.weight") else 0.02, generator=generator)
    return model


@dataclass(frozen=True)
class Snapshot:
    """The model at one moment of its training: bits per character on both parts of the text and a sample."""
    step: int
    seconds: float  # wall time trained so far, measures and samples included
    train_bpc: float  # on the first EVAL_CHARS of the training part
    heldout_bpc: float  # on the held-out part (its first EVAL_CHARS)
    sample: str  # SAMPLE_CHARS drawn at SAMPLE_TEMPERATURE after the text's first character, from the training seed


class Trainer:
    """One text's model, its optimizer and its history; train() streams snapshots, stop() ends it early."""

    def __init__(self, corpus: Corpus, seed: int = 0):
        self.corpus, self.seed = corpus, seed
        self.tokenizer = corpus.vocabulary  # with `model`, what genmodels.text.explain's views read
        self.generator = make_generator(seed)  # the init, then every batch's windows
        self.model = seeded_init(GPT(tiny_config(corpus.vocabulary.size)), self.generator).eval()
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=LEARNING_RATE, betas=(0.9, 0.99),
                                           weight_decay=0.1)
        self.steps, self.seconds = 0, 0.0
        self.history: list[Snapshot] = []
        self.stopping = threading.Event()  # set from another thread (a Stop button) to end train() after a step

    def stop(self) -> None:
        self.stopping.set()

    def batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """BATCH_SIZE random windows of the training part and the same windows one character on, (B, T) each."""
        train = self.corpus.train
        window = min(self.model.config.block_size, len(train) - 1)
        starts = torch.randint(len(train) - window, (BATCH_SIZE,), generator=self.generator)  # (B,)
        chunks = train[starts[:, None] + torch.arange(window + 1)]  # (B, T + 1)
        return chunks[:, :-1], chunks[:, 1:]

    def train_step(self) -> None:
        """One AdamW step on a fresh batch after a linear warmup; the model is back in eval mode afterwards."""
        x, y = self.batch()
        for group in self.optimizer.param_groups:
            group["lr"] = LEARNING_RATE * min(1.0, (self.steps + 1) / WARMUP_STEPS)
        self.model.train()
        logits = self.model(x)  # (B, T, V)
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), GRAD_CLIP)
        self.optimizer.step()
        self.model.eval()
        self.steps += 1

    def train(self, seconds: float = DEFAULT_SECONDS, max_steps: int | None = None) -> Iterator[Snapshot]:
        """Train until `seconds` of wall time pass, `max_steps` more steps are taken or stop() is called; yield a
        snapshot first (when nothing is recorded yet), every SNAPSHOT_SECONDS, and at the end."""
        self.stopping.clear()
        start, before, taken = time.perf_counter(), self.seconds, 0
        if not self.history:
            yield self.snapshot()
        shown = time.perf_counter()
        while not self.stopping.is_set() and time.perf_counter() - start < seconds and taken != max_steps:  # None: any
            self.train_step()
            taken += 1
            self.seconds = before + time.perf_counter() - start
            if time.perf_counter() - shown >= SNAPSHOT_SECONDS:
                yield self.snapshot()
                shown = time.perf_counter()
        self.seconds = before + time.perf_counter() - start
        if self.history[-1].step != self.steps:
            yield self.snapshot()

    def snapshot(self) -> Snapshot:
        """Measure and sample now, and keep the snapshot in the history."""
        train, heldout = self.corpus.train[:EVAL_CHARS].tolist(), self.corpus.heldout[:EVAL_CHARS].tolist()
        first = self.corpus.vocabulary.encode(self.corpus.text[0])
        steps = self.generate(first, SAMPLE_CHARS, SAMPLE_TEMPERATURE, 0, 1.0, self.seed)
        sample = self.corpus.text[0] + self.tokenizer.decode([int(step.token[0]) for step in steps])
        snapshot = Snapshot(self.steps, self.seconds, self.bits(train).mean().item(), self.bits(heldout).mean().item(),
                            sample)
        self.history.append(snapshot)
        return snapshot

    def chart(self) -> dict[str, list]:
        """The history as columns for a chart: step, seconds, train and held-out bits per character."""
        names = ("step", "seconds", "train_bpc", "heldout_bpc")
        return {name: [getattr(snapshot, name) for snapshot in self.history] for name in names}

    def bits(self, ids: list[int]) -> torch.Tensor:
        """-log2 P(character | the characters before it, up to a context) of ids[1:], (N - 1,): the first character
        has nothing before it, so it is read, not scored."""
        return token_surprisals(self.model, ids[1:], ids[0])

    def generate(self, prompt_ids: list[int], max_new_tokens: int, temperature: float, top_k: int, top_p: float,
                 seed: int) -> Iterator[TokenStep]:
        """A TokenStep per new character after `prompt_ids`, by the main model's sampling rules, from `seed`."""
        return generate_tokens(self.model, prompt_ids, max_new_tokens, temperature, top_k, top_p,
                               make_generator(seed))

    def view(self, step: TokenStep, top_n: int) -> StepView:
        """The step as the main model's steps are shown: the drawn character, its `top_n` rivals, entropies."""
        return view_step(self, step, 0, top_n)
