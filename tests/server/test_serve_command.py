"""`pixart-studio serve`: refuses to listen beyond loopback without a token, checks the token file, hides the token."""

from __future__ import annotations

from app.cli import main
from app.core.request import GenerationRequest
from app.remote.client import RemoteClient
from tests.server.conftest import TOKEN


def test_a_reachable_address_without_a_token_file_is_refused(capsys):
    """--host 0.0.0.0 without --token-file exits 2 saying how to make one; nothing listens."""
    assert main(["serve", "--host", "0.0.0.0", "--models", "demo"]) == 2
    error = capsys.readouterr().err
    assert "--host 0.0.0.0 lets other machines connect: give --token-file FILE" in error


def test_a_token_file_others_can_read_or_a_short_token_is_refused(tmp_path, capsys):
    """A group/world-readable token file or a short token exits 2 naming the fix."""
    loose = tmp_path / "loose"
    loose.write_text(TOKEN)
    loose.chmod(0o644)
    assert main(["serve", "--token-file", str(loose), "--models", "demo"]) == 2
    assert f"run chmod 600 {loose}" in capsys.readouterr().err
    short = tmp_path / "short"
    short.write_text("abc")
    short.chmod(0o600)
    assert main(["serve", "--token-file", str(short), "--models", "demo"]) == 2
    assert "shorter than 16 characters" in capsys.readouterr().err


def test_the_servers_log_never_contains_the_token(serve_process, tmp_path):
    """After a job, a refused call and a stream, the server's log shows the requests but never the token."""
    process, url = serve_process()
    client = RemoteClient(url, TOKEN)
    request = GenerationRequest(prompt="a red circle", width=128, height=128, steps=1, model="demo")
    client.run(request, previews=False)
    RemoteClient(url, TOKEN[::-1]).health()
    process.terminate()
    process.wait(timeout=30)
    log = (tmp_path / "serve.log").read_text(errors="replace")
    assert "POST /v1/jobs" in log and "/events" in log
    assert TOKEN not in log and TOKEN[::-1] not in log


def test_settings_clients_and_targets_never_show_the_token():
    """The objects that hold a token print without it, so a log line or traceback cannot leak it."""
    from app.remote.target import ServerTarget
    from app.server.limits import ServerSettings

    for holder in (ServerSettings(token=TOKEN), RemoteClient("http://127.0.0.1:1", TOKEN), ServerTarget("x", TOKEN)):
        assert TOKEN not in repr(holder) and "hidden" in repr(holder)
