"""A real server on loopback for each test: uvicorn on 127.0.0.1, a free port, the demo model, stopped after."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from app.core.engine_options import EngineOptions, Precision
from app.server.api import create_app
from app.server.catalog import ServerCatalog
from app.server.limits import ServerSettings
from app.server.local_renderer import LocalRenderer
from app.server.threaded import ThreadedServer, serve_in_thread

TOKEN = "test-token-0123456789abcdef"
START_TIMEOUT_S = 30.0
FP32 = EngineOptions(precision=Precision.FP32)


@dataclass
class LiveServer:
    """A running server: its address, renderer and uvicorn thread."""

    url: str
    renderer: LocalRenderer
    threaded: ThreadedServer

    def stop(self) -> None:
        """Stop accepting, close open streams and the renderer."""
        self.threaded.stop()
        self.renderer.close()


def start_server(
    max_queue: int = 4, max_body_bytes: int | None = None, options: EngineOptions = FP32, port: int = 0
) -> LiveServer:
    """Serve the demo model on 127.0.0.1 (at a free port unless given), in this process."""
    renderer = LocalRenderer(ServerCatalog.build(["demo"]), options, max_queue=max_queue)
    limits = {"max_body_bytes": max_body_bytes} if max_body_bytes else {}
    try:
        threaded = serve_in_thread(create_app(renderer, ServerSettings(token=TOKEN, **limits)), port=port)
    except RuntimeError:
        renderer.close()
        raise
    return LiveServer(threaded.url, renderer, threaded)


@pytest.fixture(scope="module")
def live_server() -> Iterator[LiveServer]:
    """The demo model served on loopback (fp32, 4 jobs per client), shared by a module's tests (loaded once)."""
    server = start_server()
    yield server
    server.stop()


@pytest.fixture
def server_factory() -> Iterator[Callable[..., LiveServer]]:
    """Start servers with other limits; all are stopped after the test."""
    started: list[LiveServer] = []

    def make(**kwargs) -> LiveServer:
        started.append(start_server(**kwargs))
        return started[-1]

    yield make
    for server in started:
        server.stop()


def free_port() -> int:
    """A port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, str]]]:
    """`pixart-studio serve` as its own process (so a test can kill it), with a token file; logs in serve.log."""
    processes: list[subprocess.Popen] = []

    def start(*extra: str) -> tuple[subprocess.Popen, str]:
        token_file = tmp_path / "token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o600)
        port = free_port()
        command = [sys.executable, "-m", "app", "serve", "--port", str(port), "--token-file", str(token_file)]
        log = (tmp_path / "serve.log").open("wb")  # what the server logs, for the tests that read it
        process = subprocess.Popen(
            [*command, "--models", "demo", *extra], cwd=Path(__file__).parents[2], stdout=log, stderr=log
        )
        log.close()
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(url + "/v1/health", timeout=1.0, trust_env=False).status_code == 200:
                    return process, url
            except httpx.HTTPError:
                time.sleep(0.1)
        process.kill()
        raise RuntimeError("pixart-studio serve did not start")

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
