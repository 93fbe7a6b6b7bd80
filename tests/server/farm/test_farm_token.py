"""The farm enforces the token exactly as the plain server does (the same app, behind Serve's proxy)."""

from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from app.remote.client import RemoteClient
from app.remote.errors import TokenRefusedError
from tests.server.farm.conftest import TOKEN, request

pytestmark = pytest.mark.farm


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}, {"Authorization": TOKEN}])
def test_every_call_but_health_needs_the_token(farm, headers):
    """Models, jobs and job status answer 401 without the exact bearer token; health answers anyway."""
    get = lambda path: httpx.get(farm.url + path, headers=headers, timeout=10, trust_env=False)  # noqa: E731
    assert get("/v1/health").status_code == 200
    assert get("/v1/models").status_code == 401
    assert get("/v1/jobs/abc").status_code == 401
    body = {"request": request(1, 2, batch=1).to_dict()}
    assert httpx.post(farm.url + "/v1/jobs", json=body, headers=headers, timeout=10).status_code == 401
    assert farm.running.ingress.active_jobs.remote().result() == 0


def test_the_event_stream_refuses_a_wrong_token(farm):
    """The WebSocket is refused before it opens (403, as uvicorn answers a close before accept), and the client
    calls it a refused token."""
    ws_url = farm.url.replace("http://", "ws://") + "/v1/jobs/abc/events"
    with pytest.raises(InvalidStatus) as refused:
        connect(ws_url, additional_headers={"Authorization": "Bearer wrong"}, open_timeout=10).close()
    assert refused.value.response.status_code == 403
    with pytest.raises(TokenRefusedError):
        next(RemoteClient(farm.url, "not-the-token-at-all").events("abc"))


def test_the_client_reports_a_refused_token_in_words(farm):
    """The remote client says "the server refused the token", as against a plain server."""
    with pytest.raises(TokenRefusedError, match="the server refused the token"):
        RemoteClient(farm.url, "not-the-token-at-all").models()
    assert [m["id"] for m in RemoteClient(farm.url, TOKEN).models()] == ["demo", "broken-model"]
