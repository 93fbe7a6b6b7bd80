"""Jobs on loopback: progress and previews, cancel, a client leaving mid-job, a server killed mid-job, fairness."""

from __future__ import annotations

import base64
import io
import json
import threading
import time

import pytest
from PIL import Image
from websockets.sync.client import connect

from app.core.remote_api import EventType, JobState
from app.core.request import GenerationRequest
from app.remote.client import RemoteClient
from app.remote.errors import ConnectionLostError
from app.server.fair_queue import FairQueue
from tests.server.conftest import TOKEN

SETTLE_S = 20.0  # a bound on waiting for the server, never a speed claim


def _request(**changes) -> GenerationRequest:
    base = {"prompt": "a red circle", "width": 128, "height": 128, "steps": 4, "model": "demo", "seed": 1}
    return GenerationRequest.from_dict(base | changes)


def _wait_final(server, job_id: str) -> JobState:
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        job = server.renderer.job(job_id)
        if job is not None and job.state.is_final:
            return job.state
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end")


def test_a_job_streams_progress_previews_and_its_png(live_server):
    """The stream brings steps with ETA and small JPEG previews, then the PNG with the same metadata chunks."""
    client = RemoteClient(live_server.url, TOKEN)
    events: list[dict] = []
    final, images, _ = client.run(_request(batch_size=2, steps=2), on_event=events.append)
    assert final is EventType.FINISHED and len(images) == 2
    steps = [e for e in events if e["type"] == "progress" and e["phase"] == "sampling"]
    assert steps and all("eta_s" in e for e in steps)
    preview = next(e["preview"] for e in steps if e["preview"])
    with Image.open(io.BytesIO(base64.b64decode(preview))) as small:
        assert max(small.size) <= 256
    seeds = []
    for image in images:
        with Image.open(io.BytesIO(image.png)) as png:
            assert png.size == (128, 128)
            seeds.append(json.loads(png.info["pixart-studio"])["request"]["seed"])
    assert seeds == [1, 2] and [i.metadata["request"]["seed"] for i in images] == [1, 2]
    assert live_server.renderer.active_jobs() == 0


def test_cancel_stops_the_running_job_and_the_next_one_runs(live_server):
    """A cancel during sampling ends the job as cancelled; the server then runs the next job normally."""
    client = RemoteClient(live_server.url, TOKEN)
    cancel = threading.Event()

    def on_event(event: dict) -> None:
        if event["type"] == "progress" and event["phase"] == "sampling":
            cancel.set()

    final, images, _ = client.run(_request(steps=200), previews=False, on_event=on_event, cancel=cancel)
    assert final is EventType.CANCELLED and images == []
    assert client.run(_request(steps=2))[0] is EventType.FINISHED


def test_a_client_that_leaves_mid_job_cancels_it(live_server):
    """Closing the event stream before the job ends cancels it; nothing is left running or queued."""
    client = RemoteClient(live_server.url, TOKEN)
    job_id = client.submit(_request(steps=200, width=256, height=256), previews=False)
    url = live_server.url.replace("http", "ws") + f"/v1/jobs/{job_id}/events"
    with connect(url, additional_headers={"Authorization": f"Bearer {TOKEN}"}, proxy=None) as socket:
        while json.loads(socket.recv(timeout=SETTLE_S)).get("phase") != "sampling":
            pass
    assert _wait_final(live_server, job_id) is JobState.CANCELLED
    assert live_server.renderer.active_jobs() == 0


def test_the_stream_refuses_a_wrong_token(live_server):
    """The WebSocket refuses a connection without the token, and the client says the token was refused."""
    job_id = RemoteClient(live_server.url, TOKEN).submit(_request(steps=2))
    with pytest.raises(Exception, match="the server refused the token"):
        list(RemoteClient(live_server.url, "wrong-token-wrong-token").events(job_id))


def test_three_clients_at_once_each_get_exactly_their_own_images(live_server):
    """Three clients submitting together each receive only the images of their own prompts and seeds."""
    outcomes: dict[int, list] = {}

    def work(index: int) -> None:
        client = RemoteClient(live_server.url, TOKEN, client_id=f"client-{index}")
        colour = ("red", "green", "blue")[index]
        request = _request(prompt=f"a {colour} square", seed=100 * index, batch_size=2, steps=1)
        outcomes[index] = client.run(request, previews=index == 0)[1]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == [0, 1, 2]
    for index, images in outcomes.items():
        colour = ("red", "green", "blue")[index]
        assert [i.metadata["request"]["seed"] for i in images] == [100 * index, 100 * index + 1]
        for image in images:
            with Image.open(io.BytesIO(image.png)) as png:
                assert colour in json.loads(png.info["pixart-studio"])["request"]["prompt"]


def test_the_queue_takes_clients_in_turn():
    """Jobs are taken round robin per client, whatever order they arrived in."""
    queue: FairQueue[str] = FairQueue(max_per_client=5)
    for item in ("a1", "a2", "a3", "b1", "c1", "b2"):
        queue.put(item[0], item)
    assert [queue.take(0) for _ in range(6)] == ["a1", "b1", "c1", "a2", "b2", "a3"]


def test_a_server_killed_mid_job_is_an_error_not_a_hang(serve_process):
    """Killing `pixart-studio serve` during sampling makes the client raise ConnectionLostError promptly."""
    process, url = serve_process()
    client = RemoteClient(url, TOKEN)
    outcome: list[BaseException] = []

    def on_event(event: dict) -> None:
        if event["type"] == "progress" and event["phase"] == "sampling":
            process.kill()

    def work() -> None:
        try:
            client.run(_request(steps=200, width=256, height=256), previews=False, on_event=on_event)
        except BaseException as error:  # the test inspects it
            outcome.append(error)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=SETTLE_S)
    assert not thread.is_alive(), "the client hung after the server died"
    assert len(outcome) == 1 and isinstance(outcome[0], ConnectionLostError)
    assert "lost the connection" in str(outcome[0]) or "cannot reach" in str(outcome[0])
