"""Pack the built Linux bundle as a Debian package: `python packaging/build_deb.py` after `packaging/build.py`."""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIST = ROOT / "dist"
PACKAGE = "pixart-studio"
INSTALL_DIR = Path("/opt/pixart-studio")
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The Maintainer field is required; .invalid (RFC 2606) says plainly that there is no list to write to yet.
MAINTAINER = "PixArt Studio maintainers <maintainers@pixart-studio.invalid>"
DESCRIPTION = """\
Generate posters and wallpapers up to 4K with PixArt-Sigma, offline
 PixArt Studio is a desktop application that runs the PixArt-Sigma diffusion
 transformer on your own machine: write a prompt, pick an aspect ratio and a
 size up to 4K, and keep every image in a gallery. It ships with a small demo
 model; real PixArt-Sigma weights are downloaded or converted from the app.
 .
 This package holds a self-contained build (Python, torch for the CPU, Qt)
 under /opt/pixart-studio; it uses the system's X11/xcb, Wayland and OpenGL
 client libraries."""
COPYRIGHT = """\
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: pixart-studio
Comment: The bundle under /opt/pixart-studio also carries Python, torch, Qt
 (PySide6), diffusers, transformers and their libraries, each under its own
 licence as published on PyPI.

Files: *
License: Apache-2.0
 On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.
"""
GLIBC_VERSION = re.compile(r"GLIBC_(\d+(?:\.\d+)+)")
LDD_LINE = re.compile(r"^\s*(\S+)\s+=>\s+(not found|\S+)")


def is_elf(path: Path) -> bool:
    """Whether a file is an ELF executable or library."""
    if path.is_symlink() or not path.is_file():
        return False
    with path.open("rb") as file:
        return file.read(4) == b"\x7fELF"


def needed_sonames(readelf_dynamic: str) -> list[str]:
    """The NEEDED entries of `readelf -d` output: the libraries a file links directly."""
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf_dynamic)


def ldd_resolutions(ldd_output: str) -> dict[str, str | None]:
    """soname → the path ldd loads it from (None: not found)."""
    found: dict[str, str | None] = {}
    for line in ldd_output.splitlines():
        match = LDD_LINE.match(line)
        if match:
            found[match.group(1)] = None if match.group(2) == "not found" else match.group(2)
    return found


def system_libraries(bundle: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Libraries the bundle's files link directly but do not carry: (path → users, missing soname → users).

    ldd runs with the bundle's folder on LD_LIBRARY_PATH, as the bundle's launcher sets it, so a library the bundle
    carries resolves inside it and only what must come from the system resolves outside.
    """
    env = {"LD_LIBRARY_PATH": str(bundle / "_internal"), "PATH": "/usr/bin:/bin", "LC_ALL": "C"}
    system: dict[str, set[str]] = {}
    missing: dict[str, set[str]] = {}
    for path in sorted(p for p in bundle.rglob("*") if is_elf(p)):
        user = str(path.relative_to(bundle))
        dynamic = subprocess.run(["readelf", "-d", str(path)], capture_output=True, text=True, env=env).stdout
        resolved = ldd_resolutions(subprocess.run(["ldd", str(path)], capture_output=True, text=True, env=env).stdout)
        for soname in needed_sonames(dynamic):
            if soname not in resolved:
                continue  # the dynamic loader itself (ld-linux), listed by ldd without an arrow
            location = resolved[soname]
            if location is None:
                missing.setdefault(soname, set()).add(user)
            elif not Path(location).resolve().is_relative_to(bundle.resolve()):
                system.setdefault(location, set()).add(user)
    return system, missing


def owning_package(library: str) -> str:
    """The Debian package that installed a library file, by `dpkg -S` (tried with and without the /usr prefix)."""
    path = Path(library)
    candidates = [path, path.resolve()]
    candidates += [
        Path(str(p).removeprefix("/usr")) if str(p).startswith("/usr/") else Path("/usr" + str(p)) for p in candidates
    ]
    for candidate in candidates:
        answer = subprocess.run(["dpkg", "-S", str(candidate)], capture_output=True, text=True)
        if answer.returncode == 0:
            return answer.stdout.split(":", 1)[0].split(",")[0].strip()
    raise SystemExit(f"no Debian package owns {library}: install the library from a package, then build again")


def glibc_floor(files: Iterable[Path]) -> str:
    """The newest GLIBC_x.y symbol version any of the files asks for: the oldest libc6 they run on."""
    newest = (0,)
    for path in files:
        symbols = subprocess.run(["objdump", "-T", str(path)], capture_output=True, text=True).stdout
        for version in GLIBC_VERSION.findall(symbols):
            newest = max(newest, tuple(map(int, version.split("."))))
    return ".".join(map(str, newest))


def depends_field(packages: Iterable[str], libc_floor: str) -> str:
    """The Depends: line: every package once, sorted, libc6 with the version its symbols need."""
    names = sorted(set(packages) | {"libc6"})
    return ", ".join(f"libc6 (>= {libc_floor})" if name == "libc6" else name for name in names)


def installed_size_kib(folder: Path) -> int:
    """Installed-Size: the bytes of the package's files in KiB, rounded up."""
    total = sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() or p.is_symlink())
    return -(-total // 1024)


def control_file(version: str, architecture: str, depends: str, size_kib: int) -> str:
    """The DEBIAN/control text."""
    return (
        f"Package: {PACKAGE}\nVersion: {version}\nArchitecture: {architecture}\nMaintainer: {MAINTAINER}\n"
        f"Installed-Size: {size_kib}\nDepends: {depends}\nSection: graphics\nPriority: optional\n"
        f"Description: {DESCRIPTION}\n"
    )


def write_icons(share: Path) -> None:
    """The app icon in the hicolor theme: the SVG as scalable, and PNGs from 16 to 256 px."""
    from PIL import Image  # the build environment has Pillow (the app needs it)

    icons = ROOT / "resources" / "icons"
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True)
    shutil.copy2(icons / "app.svg", scalable / f"{PACKAGE}.svg")
    source = Image.open(icons / "pixart-studio.png").convert("RGBA")
    for size in ICON_SIZES:
        folder = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True)
        image = source if size == source.width else source.resize((size, size), Image.Resampling.LANCZOS)
        image.save(folder / f"{PACKAGE}.png")


def stage(bundle: Path, staging: Path) -> None:
    """Lay out the package's files: the bundle under /opt, the command, the menu entry, icons and copyright."""
    if staging.exists():
        shutil.rmtree(staging)
    # build.py --archive leaves the .desktop file beside the executable; the package installs it in its place.
    shutil.copytree(
        bundle,
        staging / INSTALL_DIR.relative_to("/"),
        symlinks=True,
        ignore=shutil.ignore_patterns(f"{PACKAGE}.desktop"),
    )
    (staging / "usr" / "bin").mkdir(parents=True)
    (staging / "usr" / "bin" / PACKAGE).symlink_to(INSTALL_DIR / PACKAGE)
    share = staging / "usr" / "share"
    (share / "applications").mkdir(parents=True)
    shutil.copy2(ROOT / "resources" / f"{PACKAGE}.desktop", share / "applications" / f"{PACKAGE}.desktop")
    write_icons(share)
    (share / "doc" / PACKAGE).mkdir(parents=True)
    (share / "doc" / PACKAGE / "copyright").write_text(COPYRIGHT, encoding="utf-8")
    for path in staging.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o755 if path.is_dir() or path.stat().st_mode & 0o111 else 0o644)


def build_deb(bundle: Path, out: Path, version: str, compression: str = "xz") -> Path:
    """Build dist/pixart-studio_<version>_<arch>.deb from the bundle with dpkg-deb; return its path."""
    for tool in ("dpkg-deb", "dpkg", "ldd", "readelf", "objdump"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: build the .deb on Debian or Ubuntu with dpkg-dev and binutils")
    if not (bundle / PACKAGE).is_file():
        raise SystemExit(f"no bundle at {bundle}: run `python packaging/build.py` first")
    system, missing = system_libraries(bundle)
    if missing:
        lines = "\n".join(f"  {soname} (needed by {sorted(users)[0]})" for soname, users in sorted(missing.items()))
        raise SystemExit(
            f"the bundle needs libraries this machine lacks, so their packages are unknown:\n{lines}\n"
            "install them (apt-file search SONAME names the package), then build again"
        )
    packages = {owning_package(library) for library in system}
    elves = [p for p in bundle.rglob("*") if is_elf(p)]
    depends = depends_field(packages, glibc_floor(elves))
    architecture = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True, check=True).stdout
    staging = ROOT / "build" / "deb" / PACKAGE
    stage(bundle, staging)
    (staging / "DEBIAN").mkdir()
    control = control_file(version, architecture.strip(), depends, installed_size_kib(staging))
    (staging / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    target = out / f"{PACKAGE}_{version}_{architecture.strip()}.deb"
    subprocess.run(
        ["dpkg-deb", "--root-owner-group", f"-Z{compression}", "--build", str(staging), str(target)], check=True
    )
    print(f"Depends: {depends}")
    return target


def main() -> int:
    sys.path.insert(0, str(Path(__file__).parent))
    from build import app_version  # packaging/ is not a package: its name is the PyPI `packaging`'s

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bundle", type=Path, default=DIST / PACKAGE, help="the built bundle (dist/pixart-studio)")
    parser.add_argument("--compression", choices=("xz", "zstd", "gzip"), default="xz", help="dpkg-deb's -Z")
    args = parser.parse_args()
    print(f"package: {build_deb(args.bundle, DIST, app_version(), args.compression)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
