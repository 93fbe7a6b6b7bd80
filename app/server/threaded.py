"""Serve the API from a background thread of this process (tests, benchmarks, embedding), bounded in time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import uvicorn
from fastapi import FastAPI

START_TIMEOUT_S = 30.0


@dataclass
class ThreadedServer:
    """uvicorn running in a daemon thread, and the address it listens on."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop accepting and close open connections (streams end); waits up to `timeout_s`."""
        self.server.should_exit = True
        self.thread.join(timeout=timeout_s)


def serve_in_thread(app: FastAPI, host: str = "127.0.0.1", port: int = 0) -> ThreadedServer:
    """Start uvicorn for `app` (port 0: a free one) and return once it listens; RuntimeError if it does not."""
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", ws_ping_interval=2, ws_ping_timeout=5)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="pixart-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            server.should_exit = True
            raise RuntimeError(f"the server did not start on {host}:{port}")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return ThreadedServer(f"http://{host}:{bound}", server, thread)
