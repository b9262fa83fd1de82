"""The speed benchmark runs on the committed model and reports sane figures."""
from genmodels.fastpath import FAST_PATH
from genmodels.tools.bench import bench_diffusion, bench_gan, bench_text


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
    assert result["toy_frame_ms"] > 0 and result["toy_frame_vs_training"] > 0


def test_bench_compares_the_fast_path_with_the_plain_one():
    assert bench_text(new_tokens=8, repeats=1)["fast_path"].startswith("plain")
    with FAST_PATH.forced_static():  # what a GPU runs, without the graph recording
        text = bench_text(prompt_tokens=20, new_tokens=24, repeats=1)
        diffusion = bench_diffusion(steps=4, repeats=1)
    assert text["greedy_tokens_equal_plain_path"] is True and text["plain_generation_tokens_per_second"] > 0
    assert diffusion["images_max_abs_difference_from_plain_path"] < 1e-5
    assert diffusion["plain_guided_ddim_sample_ms"] > 0 and "forced" in diffusion["fast_path"]
