"""Measured comparisons of PixArt Studio against diffusers, the paper and the hardware: `python -m benchmarks`.

One module per family (kv_bench, engine_bench, memory_bench, app_bench, limit_bench); each `run(ctx)` returns
rows of one shared table. Every comparison is a ratio of measurements taken in the same run.
"""
