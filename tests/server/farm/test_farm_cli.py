"""`pixart-studio serve --ray` as a user runs it: its own local Ray, the API on the port asked, stopped by SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.core.remote_api import EventType
from app.remote.client import RemoteClient
from tests.server.conftest import free_port
from tests.server.farm.conftest import OPT_IN, TOKEN, request

pytestmark = pytest.mark.farm

START_WAIT_S = 180.0  # Ray's start and the replica's model load, on a busy 2-core machine


@pytest.mark.skipif(os.environ.get(OPT_IN) != "1", reason=f"starts a local Ray instance; set {OPT_IN}=1")
def test_serve_ray_serves_the_api_and_stops_cleanly_on_sigterm(tmp_path: Path):
    """A job renders through the farm the command started; SIGTERM deletes the farm, stops Ray and exits 0."""
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    port = free_port()
    command = [sys.executable, "-m", "app", "serve", "--ray", "--replicas", "1", "--models", "demo"]
    command += ["--port", str(port), "--token-file", str(token_file), "--precision", "fp32"]
    env = os.environ | {"PIXART_STUDIO_HOME": str(tmp_path / "home"), "RAY_DEDUP_LOGS": "0"}
    process = subprocess.Popen(command, cwd=Path(__file__).parents[3], env=env, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(process.stderr), daemon=True)
    reader.start()
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_WAIT_S
        # The line comes once every replica has loaded its model (the proxy answers health before that).
        while not any("PixArt Studio farm on" in line for line in lines) and time.monotonic() < deadline:
            assert process.poll() is None, "".join(lines)[-2000:]
            time.sleep(0.2)
        assert any(f"PixArt Studio farm on {url} with demo" in line for line in lines), "".join(lines)[-2000:]
        final, images, message = RemoteClient(url, TOKEN).run(request(9100, 2, batch=2))
        assert final is EventType.FINISHED and len(images) == 2, message
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=90)
        reader.join(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)
    assert process.returncode == 0, "".join(lines)[-2000:]
    assert any("stopping the farm" in line for line in lines)
