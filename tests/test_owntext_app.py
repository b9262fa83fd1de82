"""Your own text through the launched app: each client session trains, samples and scores its own model."""
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

from tests.test_app import assert_clean_error

pytestmark = pytest.mark.app
TEXT = ("Twinkle, twinkle, little star,\nHow I wonder what you are!\nUp above the world so high,\n"
        "Like a diamond in the sky.\n") * 4


def test_a_session_trains_its_own_model_then_samples_and_scores_with_it(app_url):
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    *views, numbers = first.predict(text=TEXT, seconds=3, seed=0, api_name="/owntext_train")
    assert numbers["done"] and numbers["step"] > 0 and numbers["history"]["step"][0] == 0
    assert numbers["train_bpc"] < numbers["history"]["train_bpc"][0]  # it learned
    assert "Step" in views[0] and numbers["sample"] == views[2]
    *_, sampled = first.predict(prompt="Twinkle", max_new_tokens=20, temperature=0, top_k=0, top_p=1, seed=0,
                                api_name="/owntext_sample")
    assert sampled["prompt"] == "Twinkle" and len(sampled["characters"]) == 20
    *_, scored = first.predict(text="How I wonder", api_name="/owntext_score")
    assert len(scored["surprisal_bits"]) == len("How I wonder") - 1 and scored["bits_per_char"] > 0
    with pytest.raises(AppError) as excinfo:  # another session has no model yet
        second.predict(text="How I wonder", api_name="/owntext_score")
    assert_clean_error(excinfo, "Train")


@pytest.mark.parametrize("kwargs, words", [
    (dict(text="", seconds=3, seed=0), ["at least 200"]),
    (dict(text=TEXT + "\x07", seconds=3, seed=0), ["control characters"]),
    (dict(text=TEXT, seconds=500, seed=0), ["Training seconds"]),
])
def test_bad_training_input_gets_a_clear_error(client, kwargs, words):
    with pytest.raises(AppError) as excinfo:
        client.predict(**kwargs, api_name="/owntext_train")
    assert_clean_error(excinfo, *words)
