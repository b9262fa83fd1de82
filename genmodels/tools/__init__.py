"""Command-line tools beside the library: benchmarks, peer comparisons, the load test and the GPU job."""
