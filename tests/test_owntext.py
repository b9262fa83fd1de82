"""Train a tiny GPT on your own text: checked input, a training that learns within its time, sessions kept apart and
capped, the main model's sampling rules, and scores that agree with the training's own measure."""
import copy
import json
import math
import re
import threading
import time

import pytest
import torch

from genmodels.errors import RequestError
from genmodels.owntext.corpus import MAX_CHARS, MAX_VOCAB, MIN_CHARS, Corpus
from genmodels.owntext.requests import (
    SampleRequest,
    ScoreRequest,
    TrainRequest,
    sample_text,
    score_text,
    train_text,
)
from genmodels.owntext.sessions import IDLE_SECONDS, OwnTextSession, TrainingSlots, drop_idle
from genmodels.owntext.trainer import Trainer

pytestmark = pytest.mark.usefixtures("one_thread")

VERSE = ("Twinkle, twinkle, little star,\nHow I wonder what you are!\nUp above the world so high,\n"
         "Like a diamond in the sky.\n") * 4
OTHER = ("Row, row, row your boat\nGently down the stream.\nMerrily, merrily, merrily, merrily,\n"
         "Life is but a dream.\n") * 4
STEPS = 120  # the verse is learned by heart in about 80 steps (measured: 0.02 bits per character at step 86)


@pytest.fixture(scope="module")
def trained():
    """A session whose model trained STEPS steps on the verse, and every result its training yielded."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    session = OwnTextSession()
    results = list(train_text(session, TrainRequest.build(VERSE, seconds=60, seed=0), max_steps=STEPS))
    torch.set_num_threads(threads)
    return session, results


@pytest.mark.parametrize("text, fragment", [
    ("", "Paste some text to train on"),
    (" \n\t " * 100, "Paste some text to train on"),
    ("short text", f"at least {MIN_CHARS}"),
    ("a" * (MAX_CHARS + 1), f"the limit is {MAX_CHARS:,}"),
    (VERSE.replace("star", "st\x07r"), "control characters (such as U+0007)"),
    (VERSE + "\x1b[31m", "control characters (such as U+001B)"),
    ("".join(map(chr, range(0x4E00, 0x4E00 + MAX_VOCAB + 1))), f"the limit is {MAX_VOCAB}"),
    (123, "must be text"),
])
def test_bad_texts_are_refused_with_a_message_that_says_what_to_change(text, fragment):
    with pytest.raises(RequestError, match=re.escape(fragment)):
        TrainRequest.build(text)


def test_any_script_trains_and_line_endings_become_newlines():
    text = "Ἐν ἀρχῇ ἦν ὁ λόγος\r\nय़ह 🙂 text\ttab\r" * 8
    corpus = Corpus.from_text(text)
    assert "\r" not in corpus.vocabulary.chars and "🙂" in corpus.vocabulary.chars
    ids = torch.cat([corpus.train, corpus.heldout])
    assert corpus.vocabulary.decode(ids.tolist()) == text.replace("\r\n", "\n").replace("\r", "\n")
    assert len(corpus.heldout) == max(50, round(len(corpus.text) * 0.1))


def test_training_learns_the_text_within_its_bound(trained):
    session, results = trained
    snapshots = [r.snapshot for r in results[:-1]]
    steps = [s.step for s in snapshots]
    assert steps[0] == 0 and steps[-1] == STEPS and steps == sorted(set(steps))
    first, last = snapshots[0], snapshots[-1]
    assert first.train_bpc > math.log2(session.trainer.corpus.vocabulary.size) - 0.5  # an untrained model guesses
    assert last.train_bpc < first.train_bpc - 3
    assert math.isfinite(last.heldout_bpc) and last.heldout_bpc < 1  # the held-out end repeats the verse
    assert any(word in last.sample for word in ("twinkle", "star", "wonder", "diamond"))
    assert results[-1].done and not any(r.done for r in results[:-1])
    assert results[-1].note.startswith(f"Trained after {STEPS} steps")
    assert results[-1].history["step"] == steps
    json.dumps([r.to_json() for r in results], allow_nan=False)


def test_the_time_bound_ends_a_training_without_a_step_cap():
    start = time.perf_counter()
    results = list(train_text(OwnTextSession(), TrainRequest.build(VERSE, seconds=1)))
    assert results[-1].snapshot.seconds < 1.5 and time.perf_counter() - start < 3
    assert results[-1].snapshot.step > 0


def test_the_same_seed_trains_the_same_model_and_another_seed_another():
    corpus = Corpus.from_text(OTHER)
    runs = []
    for seed in (3, 3, 4):
        trainer = Trainer(corpus, seed)
        list(trainer.train(seconds=30, max_steps=5))
        runs.append((trainer.chart()["heldout_bpc"], trainer.history[-1].sample))
    assert runs[0] == runs[1] and runs[0] != runs[2]


def test_two_sessions_train_at_once_apart_and_the_cap_refuses_a_third():
    slots, texts = TrainingSlots(2), (VERSE, OTHER)
    sessions = [OwnTextSession(), OwnTextSession()]
    learning = [threading.Event(), threading.Event()]
    finals = [None, None]

    def run(i):
        for result in train_text(sessions[i], TrainRequest.build(texts[i], seconds=30, seed=0), slots=slots):
            if result.snapshot.train_bpc < result.history["train_bpc"][0] - 1:  # both learn before the checks
                learning[i].set()
            finals[i] = result

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    assert all(event.wait(25) for event in learning)
    with pytest.raises(RequestError, match="The server is training 2 other texts; try again in a moment"):
        next(train_text(OwnTextSession(), TrainRequest.build(OTHER), slots=slots))
    with pytest.raises(RequestError, match="already running in this session"):
        next(train_text(sessions[0], TrainRequest.build(OTHER), slots=TrainingSlots(2)))
    with pytest.raises(RequestError, match="still training"):
        sample_text(sessions[1], SampleRequest.build())
    for session in sessions:
        session.stop()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads) and slots.running == 0
    for text, final in zip(texts, finals):
        assert final.done and final.note.startswith("Stopped") and final.snapshot.seconds < 30
        assert set(final.vocabulary) == set(text) and set(final.snapshot.sample) <= set(text)
    assert finals[0].snapshot.sample != finals[1].snapshot.sample


def test_closing_a_training_frees_its_slot_and_the_session():
    slots, session = TrainingSlots(1), OwnTextSession()
    training = train_text(session, TrainRequest.build(VERSE, seconds=30), slots=slots)
    next(training)
    assert slots.running == 1 and session.running
    training.close()
    assert slots.running == 0 and not session.running and session.model().steps == 0


def test_an_idle_session_loses_its_model_and_says_so():
    session = copy.deepcopy(OwnTextSession())  # gr.State deep-copies its initial value for each browser session
    with pytest.raises(RequestError, match="Train a model on your text first"):
        score_text(session, ScoreRequest.build("twinkle"))
    list(train_text(session, TrainRequest.build(VERSE), max_steps=1))
    session.last_used -= IDLE_SECONDS + 1
    assert drop_idle() >= 1 and session.trainer is None
    with pytest.raises(RequestError, match="dropped after 30 minutes"):
        sample_text(session, SampleRequest.build())


def test_greedy_sampling_is_deterministic_and_top_k_1_is_greedy(trained):
    session, _ = trained
    greedy = [sample_text(session, SampleRequest.build("Twinkle", 80, temperature=0, seed=seed)).completion
              for seed in (1, 2)]
    top_1 = sample_text(session, SampleRequest.build("Twinkle", 80, temperature=1.5, top_k=1, seed=3)).completion
    assert greedy[0] == greedy[1] == top_1
    assert greedy[0].startswith(", twinkle, little star")


def test_each_step_is_a_distribution_over_the_characters(trained):
    session, _ = trained
    trainer = session.model()
    steps = list(trainer.generate(trainer.corpus.vocabulary.encode("How"), 5, 0.8, 5, 0.9, 0))
    for step in steps:
        for probs in (step.probs, step.raw_probs):
            assert torch.allclose(probs.sum(-1), torch.ones(1))
        assert int(step.candidates) <= 5 and step.kept[0, step.token].all()
        view = trainer.view(step, top_n=trainer.corpus.vocabulary.size)
        assert sum(c["model_prob"] for c in view.candidates) == pytest.approx(1, abs=1e-5)
        assert view.token == trainer.corpus.vocabulary.chars[int(step.token)]
    result = sample_text(session, SampleRequest.build("Ho€w", 20, temperature=0.8, seed=0))
    assert result.prompt == "How" and "'€'" in result.note and len(result.views) == 20
    json.dumps(result.to_json(), allow_nan=False)


def test_scoring_the_held_out_text_gives_the_held_out_measure(trained):
    session, results = trained
    corpus = session.model().corpus
    score = score_text(session, ScoreRequest.build(corpus.heldout_text))
    assert score.bits_per_char == pytest.approx(results[-1].snapshot.heldout_bpc, abs=1e-4)
    assert len(score.surprisal_bits) == len(corpus.heldout_text) - 1
    json.dumps(score.to_json(), allow_nan=False)
    with pytest.raises(RequestError, match="characters your text did not: 'Z', 'é'"):
        score_text(session, ScoreRequest.build("Twinkle Zé"))
    with pytest.raises(RequestError, match="at least two characters"):
        ScoreRequest.build("T")
