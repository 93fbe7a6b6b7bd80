"""Rendering on a server against rendering here: the overhead of the HTTP API for one demo image (previews on and
off), the time to the first preview, and on a GPU the same for a 1024² PixArt-Σ XL step stream (random weights).

The server runs in this process on loopback (uvicorn in a thread, the LocalRenderer's own thread), so the ratio
measures the API, its encoding and its stream, not a network. Timings are wall time: the work is spread over
threads, and wall time is what a user waits.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.core.engine_options import EngineOptions, Precision
from app.core.request import GenerationRequest
from app.engine.pipeline import Pipeline
from app.model.catalog import model_info
from app.remote.client import RemoteClient
from app.server.api import create_app
from app.server.catalog import ServerCatalog
from app.server.limits import ServerSettings
from app.server.local_renderer import PREVIEW_EVERY, LocalRenderer
from app.server.threaded import serve_in_thread
from benchmarks.harness import Context, Row, median, paired_ratios
from benchmarks.models import pipeline_folder, xl_components

FAMILY = "remote"
MODEL_ID = "bench"


def run(ctx: Context) -> list[Row]:
    """The demo image on CPU or GPU; the XL stream only on a GPU."""
    folder, origin = pipeline_folder(ctx.work)
    rows = _compare(ctx, origin, folder, lambda _path, options: Pipeline.load(folder, options=options), 128, 20)
    if not ctx.is_cuda or ctx.smoke:
        rows.append(Row.skip(FAMILY, "PixArt-Σ XL 1024² step stream", "needs a CUDA GPU (minutes per step on a CPU)"))
        return rows

    def xl_loader(_path: Path, options: EngineOptions) -> Pipeline:
        return Pipeline(xl_components(ctx), options, ctx.device, ctx.half_dtype)

    return rows + _compare(ctx, "PixArt-Σ XL (random weights)", folder, xl_loader, 1024, 10)


def _compare(
    ctx: Context, label: str, folder: Path, loader: Callable[[Path, EngineOptions], Any], side: int, steps: int
) -> list[Row]:
    """Alternate local and remote runs of the same request, previews off and on."""
    steps = 2 if ctx.smoke else steps
    options = EngineOptions(precision=Precision.FP32 if not ctx.is_cuda else Precision.AUTO)
    local = loader(folder, options)
    token = secrets.token_urlsafe(24)
    catalog = ServerCatalog({MODEL_ID: model_info(folder, "folder", MODEL_ID)})
    renderer = LocalRenderer(catalog, options, loader=loader)
    server = serve_in_thread(create_app(renderer, ServerSettings(token=token)))
    client = RemoteClient(server.url, token, timeout_s=60.0)
    prompts = iter(range(100_000))
    rows: list[Row] = []
    try:
        timings: dict[str, list[float]] = {}
        first_preview: dict[str, list[float]] = {"local": [], "remote": []}

        def request() -> GenerationRequest:
            prompt = f"a red circle at the top, {next(prompts)}"
            return GenerationRequest(prompt, width=side, height=side, steps=steps, model=MODEL_ID)

        def run_local(previews: bool) -> float:
            local.options = EngineOptions(precision=options.precision, preview_every=PREVIEW_EVERY if previews else 0)
            started, seen = time.perf_counter(), threading.Event()

            def on_step(step: Any) -> None:
                if step.preview is not None and not seen.is_set():
                    seen.set()
                    first_preview["local"].append(time.perf_counter() - started)

            local.generate(request(), on_step=on_step)
            return time.perf_counter() - started

        def run_remote(previews: bool) -> float:
            started, seen = time.perf_counter(), threading.Event()

            def on_event(event: dict[str, Any]) -> None:
                if event.get("preview") and not seen.is_set():
                    seen.set()
                    first_preview["remote"].append(time.perf_counter() - started)

            final = client.run(request(), previews=previews, on_event=on_event)[0]
            if final.value != "finished":
                raise RuntimeError(f"the benchmark's remote job ended {final.value}")
            return time.perf_counter() - started

        runs = {
            "local, previews off": lambda: run_local(False),
            "remote, previews off": lambda: run_remote(False),
            "local, previews on": lambda: run_local(True),
            "remote, previews on": lambda: run_remote(True),
        }
        for action in runs.values():  # untimed: loads and first-call set-up on both sides
            action()
        first_preview = {"local": [], "remote": []}
        repeats = ctx.repeats(7, 3)
        ctx.log(f"remote: {label} {side}², {steps} steps, {repeats} rounds of local and remote")
        timings = {name: [] for name in runs}
        names = list(runs)
        for round_index in range(repeats):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:
                timings[name].append(runs[name]())
        for previews in ("off", "on"):
            here, there = timings[f"local, previews {previews}"], timings[f"remote, previews {previews}"]
            ratio = median(paired_ratios(there, here))
            rows.append(
                Row(
                    FAMILY,
                    f"{label} {side}², {steps} steps: remote / local, previews {previews}",
                    ratio,
                    "×",
                    compare=f"{median(there):.3g} s remote against {median(here):.3g} s here",
                    data={"remote_s": there, "local_s": here},
                )
            )
        remote_first, local_first = median(first_preview["remote"]), median(first_preview["local"])
        rows.append(
            Row(
                FAMILY,
                f"{label} {side}²: time to first preview, remote",
                remote_first,
                "s",
                compare=f"{local_first:.3g} s here (preview every {PREVIEW_EVERY} steps)",
                data={"remote_s": first_preview["remote"], "local_s": first_preview["local"]},
            )
        )
    finally:
        client.close()
        server.stop()
        renderer.close()
        local.close()
    return rows
