"""packaging/build_deb.py's pieces: reading ldd and readelf, the control file, and the package's file layout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.packaging.loader import load

build_deb = load("build_deb")

READELF = """
Dynamic section at offset 0x7bd8 contains 30 entries:
  Tag        Type                         Name/Value
 0x0000000000000001 (NEEDED)             Shared library: [libQt6XcbQpa.so.6]
 0x0000000000000001 (NEEDED)             Shared library: [libxcb-icccm.so.4]
 0x0000000000000001 (NEEDED)             Shared library: [libc.so.6]
 0x000000000000001d (RUNPATH)            Library runpath: [$ORIGIN/../../lib]
"""
LDD = """\
\tlinux-vdso.so.1 (0x00007ffd4e9f2000)
\tlibQt6XcbQpa.so.6 => /opt/pixart-studio/_internal/libQt6XcbQpa.so.6 (0x00007f50d5e00000)
\tlibxcb-icccm.so.4 => not found
\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f50d5a1f000)
\t/lib64/ld-linux-x86-64.so.2 (0x00007f50d6a5b000)
"""


def test_readelf_and_ldd_output_are_read():
    """NEEDED names in order; ldd's resolutions with not found as None and the loader left out."""
    assert build_deb.needed_sonames(READELF) == ["libQt6XcbQpa.so.6", "libxcb-icccm.so.4", "libc.so.6"]
    assert build_deb.ldd_resolutions(LDD) == {
        "libQt6XcbQpa.so.6": "/opt/pixart-studio/_internal/libQt6XcbQpa.so.6",
        "libxcb-icccm.so.4": None,
        "libc.so.6": "/lib/x86_64-linux-gnu/libc.so.6",
    }


def test_depends_lists_each_package_once_with_libc6_versioned():
    """Sorted, no duplicates, libc6 always present and bounded below by the symbols the files use."""
    field = build_deb.depends_field(["libxcb-icccm4", "libgl1", "libxcb-icccm4", "libc6"], "2.34")
    assert field == "libc6 (>= 2.34), libgl1, libxcb-icccm4"


def test_control_file_has_the_fields_dpkg_requires():
    """Package, Version, Architecture, Maintainer, Description (with an indented long part), sizes and Depends."""
    text = build_deb.control_file("0.1.0", "amd64", "libc6 (>= 2.34), libgl1", 926000)
    fields = dict(line.split(": ", 1) for line in text.splitlines() if line and not line.startswith(" "))
    assert fields["Package"] == "pixart-studio" and fields["Version"] == "0.1.0"
    assert fields["Architecture"] == "amd64" and fields["Installed-Size"] == "926000"
    assert fields["Depends"] == "libc6 (>= 2.34), libgl1"
    assert "<" in fields["Maintainer"] and text.endswith("\n")
    assert all(line.startswith(" ") for line in text.split("Description: ", 1)[1].splitlines()[1:])


def test_staged_package_has_the_command_menu_entry_and_icons_in_their_places(tmp_path):
    """A stand-in bundle laid out: /opt/pixart-studio, /usr/bin link, .desktop, hicolor icons, copyright."""
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "pixart-studio").write_bytes(b"\x7fELF")
    (bundle / "pixart-studio").chmod(0o700)
    (bundle / "pixart-studio.desktop").write_text("left by --archive")
    staging = tmp_path / "stage"
    build_deb.stage(bundle, staging)
    assert (staging / "usr/bin/pixart-studio").readlink() == Path("/opt/pixart-studio/pixart-studio")
    assert (staging / "opt/pixart-studio/pixart-studio").stat().st_mode & 0o777 == 0o755
    assert not (staging / "opt/pixart-studio/pixart-studio.desktop").exists()
    assert (staging / "usr/share/applications/pixart-studio.desktop").is_file()
    assert (staging / "usr/share/icons/hicolor/scalable/apps/pixart-studio.svg").is_file()
    for size in build_deb.ICON_SIZES:
        assert (staging / f"usr/share/icons/hicolor/{size}x{size}/apps/pixart-studio.png").is_file()
    assert (staging / "usr/share/doc/pixart-studio/copyright").stat().st_mode & 0o777 == 0o644


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils")
def test_menu_entry_passes_desktop_file_validate():
    """The .desktop file the package installs is valid by freedesktop's own validator."""
    entry = Path(__file__).resolve().parents[2] / "resources" / "pixart-studio.desktop"
    run = subprocess.run(["desktop-file-validate", str(entry)], capture_output=True, text=True, check=False)
    assert run.returncode == 0 and not run.stdout.strip(), run.stdout + run.stderr
