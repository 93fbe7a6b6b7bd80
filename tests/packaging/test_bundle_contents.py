"""The spec's lists, built for Windows and Linux without PyInstaller (packaging/bundle_contents.py)."""

from __future__ import annotations

from pathlib import Path

from tests.packaging.loader import load

contents = load("bundle_contents")


def test_windows_bundle_has_a_windowed_app_a_console_twin_the_ico_and_the_version_resource():
    """On win32 the spec makes pixart-studio.exe (no console) and pixart-studio-cli.exe, with the .ico and version."""
    plan = contents.contents("win32", {"PIXART_STUDIO_VERSION_FILE": r"C:\build\version_info.txt"})
    assert plan.executables == (
        contents.Executable("pixart-studio", console=False),
        contents.Executable("pixart-studio-cli", console=True),
    )
    assert plan.icon.name == "pixart-studio.ico" and plan.icon.is_file()
    assert plan.version_file == r"C:\build\version_info.txt"


def test_linux_bundle_has_one_console_program_the_png_icon_and_no_version_resource():
    """Elsewhere one console executable; the version file build.py sets on Windows is ignored."""
    plan = contents.contents("linux", {"PIXART_STUDIO_VERSION_FILE": "/tmp/v.txt"})
    assert plan.executables == (contents.Executable("pixart-studio", console=True),)
    assert plan.icon.name == "pixart-studio.png" and plan.icon.is_file()
    assert plan.version_file is None


def test_data_folders_exist_and_the_training_code_is_left_out_on_every_platform():
    """The resources and core data the spec copies exist; demo_training and the old app.train never go in."""
    for platform in ("win32", "linux"):
        plan = contents.contents(platform, {})
        assert {dest for _, dest in plan.datas} == {"resources", "app/core/data"}
        assert all(Path(source).is_dir() for source, _ in plan.datas)
        assert {"demo_training", "app.train"} <= set(plan.excludes)
    assert all(package != "demo_training" for package, _ in contents.SUBMODULE_TREES)


def test_waste_is_recognised_with_either_slash():
    """Windows TOC paths use backslashes; torch's tests and headers are dropped there too."""
    assert not contents.is_needed("torch\\test\\data.pt")
    assert not contents.is_needed("torch/include/ATen/ATen.h")
    assert contents.is_needed("torch\\bin\\torch_shm_manager")
    assert contents.is_needed("torch/lib/libtorch_cpu.so")


def test_submodule_filters_skip_flax():
    """diffusers' Flax modules are not collected; everything under app is."""
    skips = dict(contents.SUBMODULE_TREES)
    assert not contents.keeps_submodule("diffusers.models.unets.unet_2d_condition_flax", skips["diffusers.schedulers"])
    assert contents.keeps_submodule("diffusers.models.transformers.pixart_transformer_2d", skips["diffusers.models"])
    assert contents.keeps_submodule("app.engine.pipeline", skips["app"])


BINARIES = [
    ("PySide6/Qt/plugins/platforms/libqxcb.so", "/venv/PySide6/Qt/plugins/platforms/libqxcb.so", "BINARY"),
    ("libxcb-cursor.so.0", "/lib/x86_64-linux-gnu/libxcb-cursor.so.0", "BINARY"),
    ("libxkbcommon-x11.so.0", "/lib/x86_64-linux-gnu/libxkbcommon-x11.so.0", "BINARY"),
    ("libfontconfig.so.1", "/lib/x86_64-linux-gnu/libfontconfig.so.1", "BINARY"),
    ("libgtk-3.so.0", "/usr/lib/x86_64-linux-gnu/libgtk-3.so.0", "BINARY"),
    ("libxcb-9065bb12.so.1.1.0", "/venv/pillow.libs/libxcb-9065bb12.so.1.1.0", "BINARY"),
    ("libpython3.11.so", "libpython3.11.so.1.0", "SYMLINK"),
    ("python3.11/lib-dynload/_sqlite3.so", "/pyenv/lib/python3.11/lib-dynload/_sqlite3.so", "EXTENSION"),
    ("libsqlite3.so.0", "/lib/x86_64-linux-gnu/libsqlite3.so.0", "BINARY"),
]
LINKS = {
    "/venv/PySide6/Qt/plugins/platforms/libqxcb.so": ["libxcb-cursor.so.0", "libfontconfig.so.1", "libc.so.6"],
    "/venv/pillow.libs/libxcb-9065bb12.so.1.1.0": ["libc.so.6"],
    "/pyenv/lib/python3.11/lib-dynload/_sqlite3.so": ["/lib/x86_64-linux-gnu/libsqlite3.so.0"],
}


def test_linux_prune_takes_display_libraries_from_the_system_and_drops_copies_nothing_links():
    """xcb/xkbcommon go; a copy only the dropped GTK theme linked goes; what libraries or extensions link stays."""
    kept = contents.prune_binaries(BINARIES, lambda source: LINKS.get(source, []), "linux")
    assert [dest for dest, _, _ in kept] == [
        "PySide6/Qt/plugins/platforms/libqxcb.so",
        "libfontconfig.so.1",
        "libxcb-9065bb12.so.1.1.0",
        "libpython3.11.so",
        "python3.11/lib-dynload/_sqlite3.so",
        "libsqlite3.so.0",
    ]


def test_windows_prune_changes_nothing():
    """Windows has no system X libraries; its DLL list is PyInstaller's."""
    assert contents.prune_binaries(BINARIES, lambda source: [], "win32") == BINARIES
