"""The limit (GPU): measured time per step beside the compute floor, a step's FLOPs ÷ the measured matmul throughput.

The throughput is that of a large square matrix product in the sampling precision, measured in the same run;
a step cannot beat its FLOPs at that rate, so measured ÷ floor says how much of the hardware a step uses.
"""

from __future__ import annotations

import torch

from benchmarks.harness import Context, Row, median
from benchmarks.kv_bench import step_times

FAMILY = "limit"
MATMUL_SIDE = 8192
_PRODUCTS_PER_TIMING = 10  # several products per reading, so launch overhead does not count


def matmul_throughput(ctx: Context) -> float:
    """FLOP/s of a large square matrix product in the sampling precision on this device."""
    side = 256 if ctx.smoke else MATMUL_SIDE
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(side, side, generator=generator).to(ctx.device, ctx.half_dtype)
    b = torch.randn(side, side, generator=generator).to(ctx.device, ctx.half_dtype)

    def products() -> None:
        for _ in range(_PRODUCTS_PER_TIMING):
            torch.mm(a, b)

    products()  # warm-up: kernel selection and clocks
    times = [ctx.time_once(products) for _ in range(ctx.repeats(10, 5))]
    return _PRODUCTS_PER_TIMING * 2 * side**3 / min(times)  # the best reading: the floor is what the device can do


def run(ctx: Context) -> list[Row]:
    """Matmul throughput, then measured ÷ floor for each step size with compression off and as released."""
    if not ctx.is_cuda and not ctx.smoke:
        return [Row.skip(FAMILY, "time per step vs the compute floor", "GPU only")]
    throughput = matmul_throughput(ctx)
    dtype = str(ctx.half_dtype).removeprefix("torch.")
    rows = [Row(FAMILY, f"matrix throughput ({MATMUL_SIDE}² {dtype} matmul)", throughput / 1e12, "TFLOP/s")]
    measured = step_times(ctx)
    for label, size in measured["sizes"].items():
        for mode in ("off", "released"):
            seconds = median(size["times_s"][mode])
            floor = size["flops"][mode] / throughput
            rows.append(
                Row(
                    FAMILY,
                    f"step at {label}, compression {mode}: measured ÷ compute floor",
                    seconds / floor,
                    "×",
                    compare=f"{seconds * 1000:,.1f} ms vs floor {floor * 1000:,.1f} ms",
                    data={"seconds": seconds, "floor_s": floor, "flops": size["flops"][mode]},
                )
            )
    return rows
