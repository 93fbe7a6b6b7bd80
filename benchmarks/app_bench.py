"""The app: start-up to first window, viewer paint time, the gallery at 10,000 images, demo model time to image.

The Qt measurements run offscreen in child processes (benchmarks.qt_probe), each with a fresh user folder, so
the harness process never holds a QApplication. The store's own benchmark (store_bench) runs beside them.
"""

from __future__ import annotations

import contextlib
import io
import re
import time
from pathlib import Path
from typing import Any

from app.core.engine_options import EngineOptions
from app.core.request import GenerationRequest
from app.engine.pipeline import Pipeline
from app.store.gallery import Gallery
from benchmarks import store_bench
from benchmarks.harness import Context, Row, median
from benchmarks.models import pipeline_folder
from benchmarks.system import ChildError, run_child

FAMILY = "app"
FRAME_BUDGET_MS = 1000 / 60
GALLERY_ROWS = 10_000
# The store benchmark's budgets (benchmarks/store_bench.py): 50 ms per query, 40× that to open.
QUERY_BUDGET_MS = 50.0
OPEN_BUDGET_MS = 40 * QUERY_BUDGET_MS
_PROBE_TIMEOUT_S = 900.0
_STORE_LINE = re.compile(r"^(?P<name>.+?)\s+(?P<ms>[\d.]+) ms\s+\(budget (?P<budget>[\d.]+) ms\)\s+(?P<verdict>.+)$")


def run(ctx: Context) -> list[Row]:
    """Every app measurement, each family part independent of the others' failures."""
    rows: list[Row] = []
    for part in (startup_rows, viewer_rows, gallery_rows, store_rows, demo_rows):
        try:
            rows += part(ctx)
        except ChildError as error:
            rows.append(Row.skip(FAMILY, part.__name__.removesuffix("_rows"), str(error)))
    return rows


def _probe(ctx: Context, args: list[str], home: Path) -> dict[str, Any]:
    """One offscreen Qt probe with its own user folder."""
    env = {"PIXART_STUDIO_HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "HF_HUB_OFFLINE": "1"}
    return run_child("benchmarks.qt_probe", args, _PROBE_TIMEOUT_S, threads=ctx.threads, env=env)


def startup_rows(ctx: Context) -> list[Row]:
    """Bare Qt window, the app's window, and the app with its model loaded, launched in alternation."""
    folder, origin = pipeline_folder(ctx.work)
    modes = {"bare": [], "window": [], "model": ["--model", str(folder)]}
    results: dict[str, list[dict[str, Any]]] = {mode: [] for mode in modes}
    repeats = ctx.repeats(7, 3)
    ctx.log(f"app: start-up, {repeats} launches of each kind")
    for round_index in range(1 + repeats):  # round 0 creates the user folders and warms the file cache
        shift = round_index % len(modes)
        for mode in list(modes)[shift:] + list(modes)[:shift]:
            args = ["startup", mode, "--spawned-at", repr(time.time()), *modes[mode]]
            result = _probe(ctx, args, ctx.work / f"home-{mode}")
            if round_index:
                results[mode].append(result)

    def typical(mode: str, key: str = "cpu_s") -> float:  # the median launch
        return median([launch[key] for launch in results[mode]])

    # the window must appear before torch is imported, in both of the app's modes
    torch_free = not any(launch["torch_imported"] for mode in ("window", "model") for launch in results[mode])
    states = {r["model_state"] for r in results["model"]}
    return [
        Row(
            FAMILY,
            "start-up to first window, bare QApplication + QMainWindow",
            typical("bare"),
            "s",
            compare=f"wall {typical('bare', 'wall_s'):.2f} s",
            data={"launches": results["bare"]},
        ),
        Row(
            FAMILY,
            "start-up to first window, PixArt Studio",
            typical("window"),
            "s",
            compare=f"{typical('window') / typical('bare'):.1f}× bare; wall {typical('window', 'wall_s'):.2f} s",
            goal="torch not imported",
            met=torch_free,
            data={"launches": results["window"]},
        ),
        Row(
            FAMILY,
            f"start-up to model ready ({origin})",
            typical("model", "model_cpu_s"),
            "s",
            compare=f"window first at {typical('model'):.2f} s; wall {typical('model', 'model_wall_s'):.2f} s",
            goal="model ready",
            met=states == {"ready"},
            data={"launches": results["model"]},
        ),
    ]


def viewer_rows(ctx: Context) -> list[Row]:
    """Per-frame paint time of the viewer (mip levels) beside a plain QGraphicsPixmapItem view, same image."""
    rows = []
    for side in (512,) if ctx.smoke else (4096, 8192):
        ctx.log(f"app: viewer painting a {side}² image")
        frames = _probe(ctx, ["viewer", "--side", str(side), "--frames", str(ctx.repeats(40, 15))], ctx.work / "home")
        times = frames["frame_cpu_s"]
        for zoom in ("fit", "100%", "400%"):
            studio, plain = median(times[f"studio {zoom}"]) * 1000, median(times[f"plain {zoom}"]) * 1000
            rows.append(
                Row(
                    FAMILY,
                    f"viewer paint per frame, {side}² at {zoom}",
                    studio,
                    "ms",
                    compare=f"plain QGraphicsPixmapItem view {plain:.2f} ms ({studio / plain:.2f}×)",
                    goal=f"< {FRAME_BUDGET_MS:.1f} ms (60 fps)",
                    met=studio < FRAME_BUDGET_MS,
                    data={"studio_s": times[f"studio {zoom}"], "plain_s": times[f"plain {zoom}"]},
                )
            )
    return rows


def _build_gallery(root: Path, count: int) -> None:
    """Image files and their index rows, as `count` saves would leave them (the store benchmark's rows)."""
    root.mkdir(parents=True, exist_ok=True)
    store_bench._rows(count, with_files=root)  # realistic saves, as the store benchmark makes them
    Gallery.open(root, root / ".thumbnails", use_system_trash=False).close()  # first open indexes the files


def gallery_rows(ctx: Context) -> list[Row]:
    """Open, search and scroll a gallery of 10,000 images through the app's model and view."""
    count = 200 if ctx.smoke else GALLERY_ROWS
    root = ctx.work / "gallery"
    ctx.log(f"app: writing a gallery of {count:,} images")
    _build_gallery(root, count)
    result = _probe(ctx, ["gallery", "--root", str(root), "--frames", str(ctx.repeats(60, 30))], ctx.work / "home")
    rows = [
        Row(
            FAMILY,
            f"gallery open, {result['count']:,} images (store, model, view, first frame)",
            result["open_cpu_s"] * 1000,
            "ms",
            goal=f"< {OPEN_BUDGET_MS:.0f} ms",
            met=result["open_cpu_s"] * 1000 < OPEN_BUDGET_MS,
        ),
    ]
    for query, seconds in result["search_cpu_s"].items():
        rows.append(
            Row(
                FAMILY,
                f"gallery search {query!r} (query, model reset, repaint)",
                seconds * 1000,
                "ms",
                goal=f"< {QUERY_BUDGET_MS:.0f} ms",
                met=seconds * 1000 < QUERY_BUDGET_MS,
            )
        )
    frame = median(result["scroll_cpu_s"]) * 1000
    rows.append(
        Row(
            FAMILY,
            "gallery scroll per frame (a third of a page each)",
            frame,
            "ms",
            compare=f"worst {max(result['scroll_cpu_s']) * 1000:.1f} ms; {result['rows_loaded']:,} rows paged in",
            goal=f"< {FRAME_BUDGET_MS:.1f} ms (60 fps)",
            met=frame < FRAME_BUDGET_MS,
            data={"frames_s": result["scroll_cpu_s"]},
        )
    )
    return rows


def store_rows(ctx: Context) -> list[Row]:
    """The store helper's own benchmark (queries on the index at 10,000 rows), its printed table read back."""
    count = 200 if ctx.smoke else GALLERY_ROWS
    ctx.log(f"app: store benchmark at {count:,} rows")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = store_bench.main(["--rows", str(count)])
    rows = []
    for line in printed.getvalue().splitlines():
        found = _STORE_LINE.match(line.strip())
        if found:
            ms, budget = float(found["ms"]), float(found["budget"])
            rows.append(
                Row(FAMILY, f"store query: {found['name']}", ms, "ms", goal=f"< {budget:.0f} ms", met=ms < budget)
            )
    if not rows:
        return [Row.skip(FAMILY, "store benchmark", f"exit {status}; unreadable output: {printed.getvalue()[-300:]}")]
    return rows


def demo_rows(ctx: Context) -> list[Row]:
    """The demo model as a user gets it (default engine options): load, then time to image at its native size."""
    folder, origin = pipeline_folder(ctx.work)
    loaded: list[Pipeline] = []
    load_s = ctx.time_once(lambda: loaded.append(Pipeline.load(folder, options=EngineOptions())))
    engine = loaded[0]
    side, steps = engine.native_resolution, 2 if ctx.smoke else 20
    ctx.log(f"app: {origin}, time to a {side}² image")
    prompts = iter(range(1_000))

    def generate() -> None:
        engine.generate(
            GenerationRequest(f"a red circle at the top, {next(prompts)}", width=side, height=side, steps=steps)
        )

    generate()  # untimed: the first image pays one-time set-up (allocations, kernel choices)
    times = [ctx.time_once(generate) for _ in range(ctx.repeats(7, 3))]
    seconds = median(times)
    dtype = str(engine.dtype).removeprefix("torch.")
    engine.close()
    return [
        Row(FAMILY, f"{origin}: load (default options, {dtype})", load_s, "s"),
        Row(
            FAMILY,
            f"{origin}: time to image, {side}², {steps} steps",
            seconds,
            "s",
            compare=f"{seconds / steps * 1000:.0f} ms per step, previews on",
            data={"times_s": times},
        ),
    ]
