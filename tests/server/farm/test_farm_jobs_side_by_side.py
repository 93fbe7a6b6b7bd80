"""Jobs of two clients run side by side on the two replicas, instead of one waiting behind the other."""

from __future__ import annotations

import time

import pytest

from app.remote.client import RemoteClient
from tests.server.farm.conftest import LOG_WAIT_S, TOKEN, request

pytestmark = pytest.mark.farm


def test_two_clients_single_images_run_at_once(farm):
    """Two one-image jobs from two clients are both running at some moment, and both finish."""
    clients = [RemoteClient(farm.url, TOKEN), RemoteClient(farm.url, TOKEN)]
    jobs = [client.submit(request(8100 + n, 120, batch=1)) for n, client in enumerate(clients)]
    both_running = False
    deadline = time.monotonic() + LOG_WAIT_S
    while time.monotonic() < deadline:
        states = [client.status(job) for client, job in zip(clients, jobs, strict=True)]
        both_running |= all(s["state"] == "running" and s["progress"] for s in states)
        if all(s["state"] in ("finished", "failed", "cancelled") for s in states):
            break
        time.sleep(0.05)
    assert [s["state"] for s in states] == ["finished", "finished"]
    assert both_running, "the second client's job waited for the first one"
