"""The own-text family's requests and results: its limits, its checks, and the functions the page and the API share
(owntext_train, owntext_sample, owntext_score). Each function takes the caller's OwnTextSession, which holds the
model its training made; a result's to_json() is what the API sends.
"""
from collections.abc import Iterator
from dataclasses import asdict, dataclass

from genmodels.errors import RequestError
from genmodels.owntext.corpus import MAX_CHARS, MAX_VOCAB, Corpus, checked, show_chars
from genmodels.owntext.sessions import SLOTS, OwnTextSession, TrainingSlots
from genmodels.owntext.trainer import DEFAULT_SECONDS, MAX_SECONDS, Snapshot, Trainer
from genmodels.runtime import timer
from genmodels.text.explain import StepView
from genmodels.text.requests import Sampling
from genmodels.validation import SEED, Bound, Text

LIMITS = {
    "text": Text("Your text", MAX_CHARS),  # also at least MIN_CHARS, at most MAX_VOCAB different characters
    "seconds": Bound("Training seconds", 1, MAX_SECONDS),
    "seed": SEED,
    "prompt": Text("Prompt"),  # the model reads its last block_size characters
    "max_new_tokens": Bound("Characters to generate", 1, 500, integer=True),
    "score_text": Text("The text to score", MAX_CHARS),
}
TOP_N = 10  # candidates shown per generated character


@dataclass(frozen=True)
class TrainRequest:
    """Train a new model on `corpus` for `seconds` of wall time from `seed`."""
    corpus: Corpus
    seconds: float
    seed: int

    @classmethod
    def build(cls, text="", seconds=DEFAULT_SECONDS, seed=0) -> "TrainRequest":
        return cls(Corpus.from_text(text, LIMITS["text"].name), LIMITS["seconds"].check(seconds),
                   LIMITS["seed"].check(seed))


@dataclass(frozen=True)
class TrainResult:
    """Where a training stands: its latest snapshot, the history so far for a chart, and the text's sizes."""
    snapshot: Snapshot
    history: dict[str, list]  # Trainer.chart(): step, seconds, train_bpc, heldout_bpc
    vocabulary: str  # the text's different characters, in code point order
    train_chars: int
    heldout_chars: int
    done: bool
    note: str

    def to_json(self) -> dict:
        return {**asdict(self.snapshot), **{k: v for k, v in asdict(self).items() if k != "snapshot"}}


def train_result(trainer: Trainer, snapshot: Snapshot, done: bool, note: str = "") -> TrainResult:
    corpus = trainer.corpus
    return TrainResult(snapshot, trainer.chart(), "".join(corpus.vocabulary.chars), len(corpus.train),
                       len(corpus.heldout), done, note)


def train_note(trainer: Trainer) -> str:
    """How far the training went, how fast, and what the held-out measure says about it."""
    best = min(trainer.history, key=lambda snapshot: snapshot.heldout_bpc)
    last = trainer.history[-1]
    how = "Stopped" if trainer.stopping.is_set() else "Trained"
    speed = trainer.steps / trainer.seconds
    note = f"{how} after {trainer.steps:,} steps in {trainer.seconds:.1f} s ({speed:.1f} steps per second)."
    if last.heldout_bpc > best.heldout_bpc + 0.1 and last.train_bpc < best.train_bpc:
        note += (f" Held-out bits per character were lowest ({best.heldout_bpc:.2f}) at step {best.step:,}; since "
                 "then the model has been memorizing your text rather than learning its patterns.")
    return note


def train_text(session: OwnTextSession, request: TrainRequest, max_steps: int | None = None,
               slots: TrainingSlots = SLOTS) -> Iterator[TrainResult]:
    """Train the session's new model, yielding a result at every snapshot, then the last one again, done, with a
    note. `max_steps` caps the steps (tests); `slots` are the process's training slots."""
    snapshot = None
    for snapshot in session.train(request.corpus, request.seconds, request.seed, max_steps, slots):
        yield train_result(session.trainer, snapshot, False)
    yield train_result(session.trainer, snapshot, True, train_note(session.trainer))


@dataclass(frozen=True)
class SampleRequest:
    """Up to `max_new_tokens` characters after `prompt`, drawn by the main model's sampling rules."""
    prompt: str
    max_new_tokens: int
    sampling: Sampling

    @classmethod
    def build(cls, prompt="", max_new_tokens=200, temperature=0.8, top_k=0, top_p=0.95, seed=0) -> "SampleRequest":
        """Checked values; top-k is bounded by MAX_VOCAB (a top-k at least the model's vocabulary keeps every
        character)."""
        return cls(checked(prompt, LIMITS["prompt"].name, LIMITS["prompt"].max_chars),
                   LIMITS["max_new_tokens"].check(max_new_tokens),
                   Sampling.build(temperature, top_k, top_p, seed, vocab_size=MAX_VOCAB))


@dataclass(frozen=True)
class Prompt:
    """A prompt as the model reads it: the characters it knows (the text's first one when there are none)."""
    text: str
    ids: list[int]
    note: str


def prepare_prompt(trainer: Trainer, prompt: str) -> Prompt:
    """Drop the characters the model never saw, saying which; start from the text's first character when none are
    left; say when the model reads only the prompt's end."""
    vocabulary, notes = trainer.corpus.vocabulary, []
    unknown = vocabulary.unknown(prompt)
    if unknown:
        notes.append(f"Left out characters your text does not have: {show_chars(unknown)}.")
        prompt = "".join(c for c in prompt if c in vocabulary.ids)
    prompt = prompt or trainer.corpus.text[0]
    block = trainer.model.config.block_size
    if len(prompt) > block:
        notes.append(f"The model reads only the last {block} characters of the prompt.")
    return Prompt(prompt, vocabulary.encode(prompt), " ".join(notes))


@dataclass(frozen=True)
class SampleResult:
    """A finished sample: the prompt as read, the completion, and each character's step view."""
    prompt: str
    completion: str
    views: list[StepView]
    seconds: float
    note: str

    def to_json(self) -> dict:
        return {"prompt": self.prompt, "completion": self.completion, "characters": [asdict(v) for v in self.views],
                "seconds": self.seconds, "note": self.note}


def stream_sample(session: OwnTextSession, request: SampleRequest, top_n: int = TOP_N) -> Iterator[StepView]:
    """Yield the view of each new character as it is drawn (the prompt as read: prepare_prompt)."""
    trainer, s = session.model(), request.sampling
    prompt = prepare_prompt(trainer, request.prompt)
    for step in trainer.generate(prompt.ids, request.max_new_tokens, s.temperature, s.top_k, s.top_p, s.seed):
        yield trainer.view(step, top_n)


def sample_text(session: OwnTextSession, request: SampleRequest) -> SampleResult:
    """The whole sample at once (stream_sample drained), timed."""
    prompt = prepare_prompt(session.model(), request.prompt)
    with timer() as elapsed:
        views = list(stream_sample(session, request))
    return SampleResult(prompt.text, "".join(v.token for v in views), views, elapsed.seconds, prompt.note)


@dataclass(frozen=True)
class ScoreRequest:
    """Score every character of `text` after its first."""
    text: str

    @classmethod
    def build(cls, text="") -> "ScoreRequest":
        name = LIMITS["score_text"].name
        text = checked(text, name, LIMITS["score_text"].max_chars)
        if len(text) < 2:
            raise RequestError(f"{name} needs at least two characters: the first is read, each later one scored.")
        return cls(text)


@dataclass(frozen=True)
class ScoreResult:
    """Each character's surprisal -log2 P(character | the ones before it) and the text's bits per character."""
    text: str
    surprisal_bits: list[float]  # one per character after the first
    total_bits: float
    bits_per_char: float

    def to_json(self) -> dict:
        return asdict(self)


def score_text(session: OwnTextSession, request: ScoreRequest) -> ScoreResult:
    """Bits per character of the text under the session's model; characters it never saw are refused by name."""
    trainer = session.model()
    bits = trainer.bits(trainer.corpus.vocabulary.known(request.text, LIMITS["score_text"].name)).tolist()
    return ScoreResult(request.text, bits, sum(bits), sum(bits) / len(bits))
