"""The load test in a short form against the launched app, and its arithmetic."""
import pytest

from genmodels.tools import loadtest

pytestmark = pytest.mark.app


def test_a_few_students_for_a_few_seconds_get_no_errors(app_url):
    result = loadtest.drive(app_url, users=3, seconds=6, think_seconds=0.2)
    assert result["errors"] == 0, result["error_samples"]
    assert result["requests"] >= 3 and result["requests_per_second"] > 0
    assert 0 < result["p50_s"] <= result["p95_s"]
    assert sum(e["calls"] for e in result["per_endpoint"].values()) == result["requests"]


def test_every_endpoint_the_students_call_exists_and_answers(client):
    names = {name for _, name, _ in loadtest.endpoint_mix(loadtest.random.Random(0))}
    public = {name.lstrip("/") for name in client.view_api(print_info=False, return_format="dict")["named_endpoints"]}
    assert names == public  # the mix covers every public endpoint, and nothing else


def test_percentiles_and_summary():
    assert loadtest.percentile([], 95) == 0
    assert loadtest.percentile([1, 2, 3, 4, 5], 50) == 3
    assert loadtest.percentile(list(range(101)), 95) == 95
    calls = [{"endpoint": "a", "seconds": s, "error": None, "finished": 0} for s in (1, 2, 3)]
    calls.append({"endpoint": "b", "seconds": 9, "error": "AppError: busy", "finished": 0})
    summary = loadtest.summarize(calls, seconds=3)
    assert summary["requests"] == 4 and summary["errors"] == 1 and summary["requests_per_second"] == 1
    assert summary["p50_s"] == 2 and summary["error_samples"] == ["AppError: busy"]


def test_students_who_cannot_open_the_app_stop_the_run_with_a_clear_message():
    with pytest.raises(RuntimeError, match="2 of 2 students could not open the app"):
        loadtest.connected(f"http://127.0.0.1:{loadtest.free_port()}", users=2, timeout=1.5)
