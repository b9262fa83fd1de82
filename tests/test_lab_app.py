"""The 2-D lab through the running app's API: one lab per client session, the race, points, clear refusals."""
import pytest
from gradio_client import Client
from gradio_client.exceptions import AppError

pytestmark = pytest.mark.slow
CHEAP = dict(dataset="ring", points="", seed=0, sampler="ddim", diffusion_steps=5, field_t=200, bins=16,
             temperature=1.0, x_bin=8, lr_g=1e-3, lr_d=1e-3)


def numbers(answer) -> dict:
    return answer[-1]


def test_lab_step_continues_one_lab_per_session(app_url):
    first, second = Client(app_url, verbose=False), Client(app_url, verbose=False)
    answer = first.predict(**CHEAP, families=["diffusion", "gan"], steps=50, api_name="/lab_step")
    table, result = answer[3], numbers(answer)
    assert "| training steps | 50 | 0 | 50 |" in table
    assert result["n_modes"] == 8 and result["distance_floor"] > 0
    diffusion = result["families"]["diffusion"]
    assert len(diffusion["samples"]) == 512 and diffusion["nfe_per_sample"] == 5
    assert numbers(first.predict(**CHEAP, families=["gan"], steps=50, api_name="/lab_step"))[
        "families"]["gan"]["steps"] == 100  # the same session goes on
    assert numbers(second.predict(**CHEAP, families=["gan"], steps=50, api_name="/lab_step"))[
        "families"]["gan"]["steps"] == 50  # another session has its own lab
    fresh = numbers(first.predict(**CHEAP, api_name="/lab_reset"))
    assert all(view["steps"] == 0 for view in fresh["families"].values())


def test_a_race_on_clicked_points_ends_with_a_ranking(app_url):
    client = Client(app_url, verbose=False)
    points = client.predict(points="", x=-1.0, y=0.0, api_name="/lab_point")["points"]
    points = client.predict(points=points, x=1.0, y=0.0, api_name="/lab_point")["points"]
    assert points == "-1,0; 1,0"
    answer = client.predict(**(CHEAP | dict(dataset="custom", points=points)), race_steps=100, api_name="/lab_race")
    result = numbers(answer)
    assert result["race_over"] and result["n_modes"] == 2
    assert "Race result" in answer[3]
    for view in result["families"].values():
        assert view["steps"] <= 100 and (view["covered_at"] is not None or view["steps"] == 100)


@pytest.mark.parametrize("api_name, named, words", [
    ("lab_step", CHEAP | dict(families=[], steps=10), ["Families"]),
    ("lab_step", CHEAP | dict(families=["gan"], steps=2001), ["Steps per call", "2000"]),
    ("lab_step", CHEAP | dict(dataset="custom", points="", families=["gan"], steps=10), ["Click the canvas"]),
    ("lab_race", CHEAP | dict(dataset="moons"), ["modes"]),
    ("lab_reset", CHEAP | dict(bins=65), ["Bins per axis", "64"]),
    ("lab_point", dict(points="", x=4.0, y=0.0), ["coordinate", "3"]),
])
def test_bad_values_get_a_clear_message(app_url, api_name, named, words):
    with pytest.raises(AppError) as err:
        Client(app_url, verbose=False).predict(**named, api_name=f"/{api_name}")
    assert all(word in str(err.value) for word in words), str(err.value)
