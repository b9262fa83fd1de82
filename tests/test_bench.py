"""The speed benchmark runs on the committed model and reports sane figures."""
from genmodels.bench import bench_gan, bench_text


def test_bench_text_reports_latency_and_throughput():
    result = bench_text(prompt_tokens=200, new_tokens=16, repeats=3)
    assert result["prompt_tokens_read"] == min(200, result["context"])
    assert 0 < result["next_token_step_ms"] < 10_000
    assert result["generation_tokens_per_second"] > 0
    assert abs(result["generation_ms_per_token"] * result["generation_tokens_per_second"] - 1000) < 20  # rounding


def test_bench_gan_times_an_interpolation_and_toy_steps():
    result = bench_gan(frames=64, toy_steps=20, repeats=3)
    assert result["interpolation_frames"] == 64 and 0 < result["interpolation_ms"] < 10_000
    assert result["toy_steps"] == 20 and result["toy_steps_ms"] > 0
    assert abs(result["toy_steps_per_second"] * result["toy_steps_ms"] / 1000 - 20) < 0.5  # rounding
