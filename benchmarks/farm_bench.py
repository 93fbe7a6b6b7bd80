"""The render farm (Ray Serve): images per minute on 1 and 2 renderer replicas, and the Ray path's request overhead.

Both measurements use the demo model at 128², fp32, through the real HTTP API with the real client. The plain
server runs in this process with `ctx.threads` torch threads; each farm replica has one CPU and one thread, so on a
2-core machine the plain server and a 1-replica farm use the same CPU. Needs the farm extra (ray[serve]).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import Any

from app.core.engine_options import EngineOptions, Precision
from app.core.remote_api import EventType
from app.core.request import GenerationRequest
from app.remote.client import RemoteClient
from benchmarks.harness import Context, Row, median

FAMILY = "farm"
TOKEN = "benchmark-token-0123456789abcdef"
FP32 = EngineOptions(precision=Precision.FP32, preview_every=0)
PROMPT = "a large red circle center on a black background"


def run(ctx: Context) -> list[Row]:
    """Start Ray here (2 CPUs at most), measure, and stop it."""
    try:
        import ray
        from ray import serve  # noqa: F401
    except ImportError:
        return [Row.skip(FAMILY, "farm", 'needs the farm extra: pip install -e ".[farm]"')]
    import os

    import ray

    from app.server.farm.launch import shutdown

    started = time.perf_counter()
    ray.init(num_cpus=min(2, os.cpu_count() or 1), include_dashboard=False, log_to_driver=False)
    ctx.log(f"farm: Ray started in {time.perf_counter() - started:.1f} s")
    try:
        farm = _Farm.start(replicas=2)
        ctx.log(f"farm: 2 replicas ready {time.perf_counter() - started:.1f} s after the start of Ray")
        rows = [Row(FAMILY, "Ray start + 2 replicas ready", time.perf_counter() - started, "s", "one-time")]
        rows += throughput_rows(ctx, farm)
        rows += overhead_rows(ctx, farm)
        return rows
    finally:
        shutdown(started_here=True)


@dataclass
class _Farm:
    """The farm application on the local Ray instance, rescaled between measurements."""

    plan: Any
    url: str

    @classmethod
    def start(cls, replicas: int) -> _Farm:
        from app.server.catalog import ServerCatalog
        from app.server.farm.launch import FarmPlan, deploy
        from app.server.farm.scale import FarmScale
        from app.server.limits import ServerSettings

        plan = FarmPlan(
            ServerCatalog.build(["demo"]),
            "demo",
            FP32,
            ServerSettings(token=TOKEN),
            FarmScale(replicas=replicas),
            port=0,
        )
        return cls(plan, deploy(plan).url)

    def scale(self, replicas: int) -> None:
        """Same application with another replica count (Serve keeps the running ones)."""
        from app.server.farm.launch import deploy
        from app.server.farm.scale import FarmScale

        self.plan = replace(self.plan, scale=FarmScale(replicas=replicas), port=int(self.url.rsplit(":", 1)[1]))
        deploy(self.plan)


def _job_seconds(client: RemoteClient, request: GenerationRequest) -> float:
    """Wall time of one job through the API, submit to last image fetched."""
    started = time.perf_counter()
    final, images, message = client.run(request, engine={"precision": "fp32"}, previews=False)
    if final is not EventType.FINISHED or len(images) != request.batch_size:
        raise RuntimeError(f"a benchmark job ended {final.value}: {message}")
    return time.perf_counter() - started


def throughput_rows(ctx: Context, farm: _Farm) -> list[Row]:
    """A batch of 8 (smoke: 2) at 20 steps on 1 and on 2 replicas, alternating, images per minute."""
    batch, steps = (2, 2) if ctx.smoke else (8, 20)
    rounds = 1 if ctx.smoke else ctx.repeats(3, 2)
    request = GenerationRequest(prompt=PROMPT, width=128, height=128, steps=steps, seed=1, batch_size=batch)
    client = RemoteClient(farm.url, TOKEN, timeout_s=60)
    times: dict[int, list[float]] = {1: [], 2: []}
    _job_seconds(client, request)  # warm-up: first-call costs of every replica
    for round_index in range(rounds):
        for replicas in (1, 2) if round_index % 2 == 0 else (2, 1):
            farm.scale(replicas)
            _job_seconds(client, replace(request, batch_size=1))  # the router has seen the new replica set
            times[replicas].append(_job_seconds(client, request))
            ctx.log(f"farm: {replicas} replica(s), batch of {batch}: {times[replicas][-1]:.2f} s")
    per_minute = {n: 60.0 * batch / median(t) for n, t in times.items()}
    data = {"batch": batch, "steps": steps, "seconds": times}
    return [
        Row(FAMILY, f"throughput, 1 replica ({batch} × 128², {steps} steps)", per_minute[1], "img/min", data=data),
        Row(
            FAMILY,
            f"throughput, 2 replicas ({batch} × 128², {steps} steps)",
            per_minute[2],
            "img/min",
            compare=f"{per_minute[2] / per_minute[1]:.2f}× 1 replica",
            data=data,
        ),
    ]


def overhead_rows(ctx: Context, farm: _Farm) -> list[Row]:
    """One image through the plain server and through the 1-replica farm, alternating: the Ray path's extra time."""
    farm.scale(1)
    plain_url, stop_plain = _plain_server()
    try:
        clients = {
            "plain": RemoteClient(plain_url, TOKEN, timeout_s=60),
            "farm": RemoteClient(farm.url, TOKEN, timeout_s=60),
        }
        rows = []
        for steps in (2,) if ctx.smoke else (2, 20):
            request = GenerationRequest(prompt=PROMPT, width=128, height=128, steps=steps, seed=3)
            times: dict[str, list[float]] = {"plain": [], "farm": []}
            for name in clients:
                _job_seconds(clients[name], request)  # warm-up
            for index in range(2 if ctx.smoke else ctx.repeats(15, 7)):
                for name in clients if index % 2 == 0 else reversed(list(clients)):
                    times[name].append(_job_seconds(clients[name], request))
            plain, ray_path = median(times["plain"]), median(times["farm"])
            ctx.log(f"farm: one image at {steps} steps: plain {plain * 1000:.0f} ms, farm {ray_path * 1000:.0f} ms")
            rows.append(
                Row(
                    FAMILY,
                    f"one image, {steps} steps: farm (1 replica) against the plain server",
                    (ray_path - plain) * 1000,
                    "ms",
                    compare=f"{ray_path * 1000:.0f} against {plain * 1000:.0f} ms ({ray_path / plain:.2f}×)",
                    data={"plain_s": times["plain"], "farm_s": times["farm"]},
                )
            )
        return rows
    finally:
        stop_plain()


def _plain_server() -> tuple[str, Any]:
    """`pixart-studio serve`'s app with its LocalRenderer, in this process on a free port; (url, stop)."""
    from app.server.api import create_app
    from app.server.catalog import ServerCatalog
    from app.server.limits import ServerSettings
    from app.server.local_renderer import LocalRenderer
    from app.server.threaded import serve_in_thread

    renderer = LocalRenderer(ServerCatalog.build(["demo"]), FP32)
    server = serve_in_thread(create_app(renderer, ServerSettings(token=TOKEN)))

    def stop() -> None:
        server.stop()
        renderer.close()

    return server.url, stop
