"""Build the PixArt Studio bundle for this OS: `python packaging/build.py [--self-test] [--archive] [--deb]`."""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
BUNDLE = DIST / "pixart-studio"


def app_version() -> str:
    """The version in app/__init__.py, without importing the app."""
    for line in (ROOT / "app" / "__init__.py").read_text(encoding="utf-8").splitlines():
        if line.startswith("__version__"):
            return line.split("=")[1].strip().strip("\"'")
    raise SystemExit("app/__init__.py has no __version__")


def write_windows_version_file(version: str, target: Path) -> Path:
    """PyInstaller's VSVersionInfo text, so Explorer shows the product name and version."""
    parts = [*map(int, version.split(".")), 0, 0, 0][:4]
    numbers = ", ".join(map(str, parts))
    target.write_text(
        (ROOT / "packaging" / "windows" / "version_info.txt.in")
        .read_text(encoding="utf-8")
        .replace("@NUMBERS@", numbers)
        .replace("@VERSION@", version),
        encoding="utf-8",
    )
    return target


def folder_size(folder: Path) -> int:
    """Bytes in all files under folder."""
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def size_report(bundle: Path, top: int = 12) -> str:
    """The largest top-level parts of the bundle, to show what makes up its size."""
    internal = bundle / "_internal"
    parts = sorted(((folder_size(p) if p.is_dir() else p.stat().st_size), p.name) for p in internal.iterdir())
    lines = [f"bundle: {folder_size(bundle) / 2**20:,.0f} MiB in {bundle}"]
    lines += [f"  {size / 2**20:8,.1f} MiB  {name}" for size, name in reversed(parts[-top:])]
    return "\n".join(lines)


def build() -> float:
    """Run PyInstaller on the spec; return the seconds it took."""
    env = dict(os.environ)
    if sys.platform == "win32":
        (ROOT / "build").mkdir(exist_ok=True)
        env["PIXART_STUDIO_VERSION_FILE"] = str(
            write_windows_version_file(app_version(), ROOT / "build" / "version_info.txt")
        )
    started = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--clean",
            "--distpath",
            str(DIST),
            "--workpath",
            str(ROOT / "build" / "pyinstaller"),
            str(ROOT / "packaging" / "pixart_studio.spec"),
        ],
        check=True,
        env=env,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def archive() -> Path:
    """A tar.gz of the Linux bundle with the .desktop file and icon beside it."""
    shutil.copy2(ROOT / "resources" / "pixart-studio.desktop", BUNDLE / "pixart-studio.desktop")
    target = DIST / f"pixart-studio-{app_version()}-linux-x86_64.tar.gz"
    with tarfile.open(target, "w:gz") as tar:
        tar.add(BUNDLE, arcname="pixart-studio")
    return target


def self_test() -> int:
    """Run the bundle's --self-test with an isolated user folder; return its exit code."""
    executable = BUNDLE / ("pixart-studio-cli.exe" if sys.platform == "win32" else "pixart-studio")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PIXART_STUDIO_HOME"] = str(DIST / "self-test-home")
    env["QT_QPA_PLATFORM"] = "offscreen"
    return subprocess.run([str(executable), "--self-test"], env=env, check=False).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--self-test", action="store_true", help="run the built bundle's --self-test")
    parser.add_argument("--archive", action="store_true", help="pack the Linux bundle as a .tar.gz")
    parser.add_argument("--deb", action="store_true", help="pack the Linux bundle as a .deb (Debian, Ubuntu)")
    args = parser.parse_args()
    seconds = build()
    print(f"built in {seconds:.0f} s")
    print(size_report(BUNDLE))
    if args.self_test and (code := self_test()) != 0:
        return code
    if args.archive and sys.platform.startswith("linux"):
        print(f"archive: {archive()}")
    if args.deb and sys.platform.startswith("linux"):
        from build_deb import build_deb  # beside this script; packaging/ is not a package

        print(f"package: {build_deb(BUNDLE, DIST, app_version())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
