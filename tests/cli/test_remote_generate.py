"""`generate --server`: the same command rendered on a loopback server, pixel for pixel equal to a local run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

from app.cli import main
from tests.server.conftest import TOKEN, live_server

__all__ = ["live_server"]

ARGS = ["generate", "--prompt", "a small red circle at the top on a white background", "--seed", "11", "--steps", "3"]


def test_remote_equals_local_pixel_for_pixel_in_fp32(live_server, tmp_path, capsys):
    """The demo model in fp32 gives the same pixels on the server as here, and the file says where it was made."""
    local, remote = tmp_path / "local.png", tmp_path / "remote.png"
    assert main([*ARGS, "--precision", "fp32", "--device", "cpu", "--out", str(local)]) == 0
    capsys.readouterr()
    command = [*ARGS, "--precision", "fp32", "--out", str(remote), "--json"]
    assert main([*command, "--server", live_server.url, "--token", TOKEN]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["engine"]["server"] == live_server.url and payload["engine"]["dtype"] == "float32"
    with Image.open(local) as here, Image.open(remote) as there:
        assert here.size == there.size == (128, 128)
        assert np.array_equal(np.asarray(here), np.asarray(there))
        local_settings = json.loads(here.info["pixart-studio"])
        remote_settings = json.loads(there.info["pixart-studio"])
    assert remote_settings["rendered_on"] == live_server.url and local_settings["rendered_on"] == ""
    assert remote_settings["request"] == local_settings["request"]


def test_token_comes_from_the_environment(live_server, tmp_path, monkeypatch):
    """PIXART_STUDIO_TOKEN stands in for --token."""
    monkeypatch.setenv("PIXART_STUDIO_TOKEN", TOKEN)
    out = tmp_path / "env.png"
    assert main([*ARGS, "--steps", "1", "--out", str(out), "--server", live_server.url]) == 0
    assert out.is_file()


@pytest.mark.parametrize(
    ("extra", "code", "words"),
    [
        (["--token", "not-the-token"], 1, "the server refused the token"),
        (["--token", TOKEN, "--model", "sigma-xl"], 2, "--model 'sigma-xl' is not offered by the server"),
        (["--token", TOKEN, "--steps", "300"], 2, "steps 300 is beyond this server's limit of 200"),
        (["--token", TOKEN, "--device", "cuda"], 2, "install a CUDA build of torch"),
        ([], 2, "--server needs the server's token"),
    ],
)
def test_refusals_exit_non_zero_with_one_line(live_server, tmp_path, capsys, monkeypatch, extra, code, words):
    """A wrong token, an unknown model, a limit or an engine the server lacks: one error line, no file."""
    monkeypatch.delenv("PIXART_STUDIO_TOKEN", raising=False)
    out = tmp_path / "out.png"
    assert main([*ARGS, "--out", str(out), "--server", live_server.url, *extra]) == code
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert not out.exists()


def test_an_unreachable_server_is_an_error(tmp_path, capsys):
    """A server that is not there fails at once with the address named."""
    from tests.server.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    assert main([*ARGS, "--out", str(tmp_path / "x.png"), "--server", url, "--token", TOKEN]) == 1
    assert f"cannot reach {url}" in capsys.readouterr().err
