"""The /v1 API on loopback: tokens, validation (422 naming the field), 413, 429, unknown models, the catalog."""

from __future__ import annotations

import httpx
import pytest

from app.core.remote_api import above_native_of
from app.core.request import GenerationRequest
from app.core.sizes import HighResMethod
from app.remote.client import RemoteClient
from app.remote.errors import ServerRefusedError, TokenRefusedError
from tests.server.conftest import TOKEN

AUTH = {"Authorization": f"Bearer {TOKEN}"}
SMALL = {"prompt": "a red circle", "width": 128, "height": 128, "steps": 2, "model": "demo"}


def _post(url: str, body: object, headers: dict[str, str] = AUTH, **kwargs) -> httpx.Response:
    return httpx.post(f"{url}/v1/jobs", json=body, headers=headers, timeout=10, trust_env=False, **kwargs)


def test_health_needs_no_token_and_gives_the_version(live_server):
    """Health answers without a token with the app's version."""
    answer = httpx.get(f"{live_server.url}/v1/health", timeout=10, trust_env=False).json()
    assert answer["status"] == "ok" and answer["version"]


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}])
def test_every_other_call_needs_the_token(live_server, headers):
    """Models, jobs and their status answer 401 without the exact bearer token; nothing is queued."""
    url = live_server.url
    assert httpx.get(f"{url}/v1/models", headers=headers, timeout=10, trust_env=False).status_code == 401
    assert _post(url, {"request": SMALL}, headers).status_code == 401
    assert httpx.get(f"{url}/v1/jobs/abc", headers=headers, timeout=10, trust_env=False).status_code == 401
    assert live_server.renderer.active_jobs() == 0


def test_client_reports_a_wrong_token_in_words(live_server):
    """The client turns 401 into "the server refused the token"."""
    with pytest.raises(TokenRefusedError, match="the server refused the token"):
        RemoteClient(live_server.url, "not-the-token").models()


def test_models_are_the_catalog_by_id_without_server_paths(live_server):
    """The catalog lists the demo model by id with its native resolution and no file system path."""
    models = RemoteClient(live_server.url, TOKEN).models()
    assert [m["id"] for m in models] == ["demo"] and models[0]["native_resolution"] == 128
    assert models[0]["guidance_scale"] == 2.0 and above_native_of(models[0]) is HighResMethod.ENLARGE
    assert above_native_of({}) is above_native_of({"above_native": "from-a-newer-server"}) is HighResMethod.AUTO
    assert "path" not in models[0] and "/" not in str(models[0])


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"request": SMALL | {"steps": "many"}}, "steps", "steps must be a whole number"),
        ({"request": SMALL | {"steps": 5000}}, "steps", "out of range"),
        ({"request": SMALL | {"width": 6000, "height": 6000}}, "width", "beyond this server's 16,777,216 pixels"),
        ({"request": {"width": 128}}, "prompt", "prompt is required"),
        ({"request": SMALL | {"model": "/etc/passwd"}}, "model", "not offered by this server; choose: demo"),
        ({"request": SMALL | {"model_path": "/tmp"}}, "model_path", "not a field"),
        ({"request": SMALL, "engine": {"precision": "fp8"}}, "precision", "fp32"),
        ({"request": SMALL, "engine": {"device": "tpu"}}, "device", "choose auto, cpu"),
        ({"request": SMALL | {"prompt": "x" * 5000}}, "prompt", "this server takes 4,000"),
    ],
)
def test_bad_fields_are_422_naming_the_field(live_server, body, field, words):
    """A bad value answers 422 whose detail names the field and the problem; nothing is queued."""
    answer = _post(live_server.url, body)
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert field in str(detail) and words in str(detail)
    assert live_server.renderer.active_jobs() == 0


def test_malformed_json_is_422(live_server):
    """A body that is not JSON answers 422 saying so."""
    answer = httpx.post(
        f"{live_server.url}/v1/jobs",
        content=b'{"request": {"prompt": "x",',
        headers=AUTH | {"Content-Type": "application/json"},
        timeout=10,
        trust_env=False,
    )
    assert answer.status_code == 422 and "json" in answer.text.lower()


def test_a_body_over_the_limit_is_413(server_factory):
    """A request body beyond the server's limit answers 413, whether declared or streamed."""
    server = server_factory(max_body_bytes=2000)
    assert _post(server.url, {"request": SMALL | {"prompt": "y" * 3000}}).status_code == 413

    def chunks():
        yield b'{"request": {"prompt": "'
        yield b"z" * 3000
        yield b'"}}'

    answer = httpx.post(
        f"{server.url}/v1/jobs", content=chunks(), headers=AUTH | {"Content-Type": "application/json"}, trust_env=False
    )
    assert answer.status_code == 413 and "limit of 2,000 bytes" in answer.text
    assert server.renderer.active_jobs() == 0


def test_too_many_jobs_of_one_client_is_429_others_still_get_in(server_factory):
    """With --max-queue 1 a client's second job answers 429 while another client's job is accepted."""
    server = server_factory(max_queue=1)
    first, second = RemoteClient(server.url, TOKEN, client_id="a"), RemoteClient(server.url, TOKEN, client_id="b")
    long_job = GenerationRequest.from_dict(SMALL | {"steps": 200, "width": 512, "height": 512})
    job = first.submit(long_job, previews=False)
    with pytest.raises(ServerRefusedError, match="429") as refused:
        first.submit(long_job)
    assert refused.value.status == 429
    other = second.submit(GenerationRequest.from_dict(SMALL))
    first.cancel(job)
    second.cancel(other)
