"""The .deb on this machine: apt installs it with its libraries, the command self-tests, the window opens, and
`apt-get remove` leaves nothing behind. Opt-in (root, Debian/Ubuntu, minutes): PIXART_STUDIO_TEST_DEB=1."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WATCHED = ("/opt", "/usr/bin", "/usr/share/applications", "/usr/share/icons/hicolor", "/usr/share/doc")

pytestmark = [
    pytest.mark.deb,
    pytest.mark.skipif(
        os.environ.get("PIXART_STUDIO_TEST_DEB") != "1",
        reason="installs a package system-wide (minutes, root); set PIXART_STUDIO_TEST_DEB=1",
    ),
    pytest.mark.skipif(not sys.platform.startswith("linux") or os.geteuid() != 0, reason="needs root on Linux"),
]


def _run(*command: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)


def _tree() -> set[str]:
    return {str(p) for top in WATCHED for p in Path(top).rglob("*")}


@pytest.fixture(scope="module")
def deb() -> Path:
    """The package: PIXART_STUDIO_DEB if it names one, else built now by build.py --deb (bundle included)."""
    for tool in ("apt-get", "dpkg-deb", "Xvfb", "xdotool", "import"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: apt-get install dpkg-dev xvfb xdotool imagemagick")
    if given := os.environ.get("PIXART_STUDIO_DEB"):
        return Path(given).resolve()
    pytest.importorskip("PyInstaller", reason="install the packaging extra: pip install -e '.[packaging]'")
    build = _run(sys.executable, "packaging/build.py", "--deb", cwd=ROOT)
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return next((ROOT / "dist").glob("pixart-studio_*_amd64.deb"))


def test_deb_installs_self_tests_opens_its_window_and_uninstalls_cleanly(deb, tmp_path):
    """apt-get install pulls Depends; pixart-studio on PATH passes --self-test and shows its window under Xvfb."""
    assert _run("dpkg-query", "-W", "pixart-studio").returncode != 0, "remove the installed pixart-studio first"
    before = _tree()
    install = _run("apt-get", "install", "-y", str(deb), env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert install.returncode == 0, install.stdout + install.stderr
    pulled = install.stdout.split("The following NEW packages will be installed:", 1)[-1].split("\n0 upgraded")[0]
    print(f"apt-get install pulled:{' '.join(pulled.split())}")
    depends = _run("dpkg-deb", "-f", str(deb), "Depends").stdout
    for package in (item.split()[0] for item in depends.split(",")):
        status = _run("dpkg-query", "-W", "-f=${Status}", package).stdout
        assert status == "install ok installed", f"{package}: {status}"
    owned = [line for line in _run("dpkg", "-L", "pixart-studio").stdout.splitlines() if line.startswith("/")]
    assert "/usr/bin/pixart-studio" in owned and "/usr/share/applications/pixart-studio.desktop" in owned
    assert _run("desktop-file-validate", "/usr/share/applications/pixart-studio.desktop").returncode == 0

    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PIXART_STUDIO_HOME": str(tmp_path / "data")}
    test = _run("pixart-studio", "--self-test", env={**env, "QT_QPA_PLATFORM": "offscreen"}, timeout=600)
    assert test.returncode == 0 and "self-test passed" in test.stdout, test.stdout + test.stderr

    screenshot = Path(os.environ.get("PIXART_STUDIO_DEB_SCREENSHOT", tmp_path / "deb-window.png"))
    display = ":87"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1600x1000x24", "-nolisten", "tcp"])
    app = None
    try:
        time.sleep(2)
        app = subprocess.Popen(["pixart-studio"], env={**env, "DISPLAY": display}, stderr=subprocess.PIPE, text=True)
        found = _run("xdotool", "search", "--sync", "--onlyvisible", "--name", "PixArt Studio",
                     env={**env, "DISPLAY": display}, timeout=300)  # fmt: skip
        assert found.returncode == 0 and found.stdout.strip(), "no PixArt Studio window appeared"
        time.sleep(5)  # let the first paint finish before the screenshot
        assert app.poll() is None, app.stderr.read() if app.stderr else "the app exited"
        shot = _run("import", "-display", display, "-window", "root", str(screenshot))
        assert shot.returncode == 0, shot.stderr
        colours = _run("identify", "-format", "%k", str(screenshot)).stdout
        assert int(colours) > 50, f"the screenshot has {colours} colours: nothing was drawn"
    finally:
        for process in (app, xvfb):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    print(f"screenshot: {screenshot}")

    remove = _run("apt-get", "remove", "-y", "pixart-studio")
    assert remove.returncode == 0, remove.stdout + remove.stderr
    assert [path for path in owned if os.path.lexists(path) and not Path(path).is_dir()] == []
    # What the pulled libraries installed stays (apt removes them with autoremove); nothing else may be new.
    new = sorted(_tree() - before)
    theirs = {line.split(": ", 1)[1] for line in _run("dpkg", "-S", *new).stdout.splitlines()} if new else set()
    assert [path for path in new if path not in theirs] == [], "apt-get remove left files behind"
