"""The speed benchmark runs on the committed model and reports sane figures."""
from genmodels.bench import bench_text


def test_bench_text_reports_latency_and_throughput():
    result = bench_text(prompt_tokens=200, new_tokens=16, repeats=3)
    assert result["prompt_tokens_read"] == min(200, result["context"])
    assert 0 < result["next_token_step_ms"] < 10_000
    assert result["generation_tokens_per_second"] > 0
    assert abs(result["generation_ms_per_token"] * result["generation_tokens_per_second"] - 1000) < 20  # rounding
