"""What the bundle holds for a platform, as plain lists: the spec builds from them, tests read them directly."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# diffusers and transformers import their model code lazily by name; collect only the families we use.
# Each entry: a package whose submodules are collected, and a substring that skips a submodule (None: keep all).
SUBMODULE_TREES: tuple[tuple[str, str | None], ...] = (
    ("app", None),
    ("diffusers.models", ".flax"),
    ("diffusers.schedulers", "flax"),
    ("diffusers.pipelines.pixart_alpha", None),
    ("transformers.models.t5", None),
)
HIDDEN_IMPORTS = ("transformers.models.auto.tokenization_auto", "sentencepiece", "tokenizers", "qasync", "appdirs")

# diffusers and transformers check these distributions' versions through package metadata at import
# (their pkgs_to_check_at_runtime lists); an optional one missing from the build environment is skipped.
METADATA_DISTRIBUTIONS = (
    "diffusers", "transformers", "torch", "safetensors", "tokenizers", "huggingface_hub", "accelerate", "numpy",
    "pillow", "PySide6_Essentials", "sentencepiece", "protobuf", "qasync", "appdirs", "pixart-studio", "requests",
    "filelock", "regex", "tqdm", "packaging", "pyyaml", "importlib_metadata", "psutil",
)  # fmt: skip

# What the app never uses: the demo model's training code (research, source checkouts only), test suites, other
# GUI toolkits, notebooks, other ML frameworks, and Qt modules the app does not import.
EXCLUDES = (
    "demo_training", "app.train",
    "tkinter", "matplotlib", "IPython", "jupyter", "notebook", "pytest", "_pytest", "pytestqt", "hypothesis",
    "torch.utils.tensorboard", "tensorboard", "torchvision", "torchaudio",
    "flax", "jax", "tensorflow", "keras", "onnx", "onnxruntime", "scipy", "sklearn", "pandas",
    "PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore", "PySide6.QtQuick",
    "PySide6.QtQml", "PySide6.QtMultimedia", "PySide6.QtCharts", "PySide6.QtDataVisualization",
    "PySide6.QtPdf", "PySide6.QtBluetooth", "PySide6.QtSql", "PySide6.QtTest",
)  # fmt: skip

# Files the hooks collect that the app never loads: torch's test data, test programs, protoc, headers and test
# libraries, and Qt's GTK platform theme (it drags in GTK, cairo and pango; the app draws its own theme).
# torch/bin/torch_shm_manager stays: `import torch` checks that it exists.
WASTE_PREFIXES = (
    "torch/test/",
    "torch/bin/test_",
    "torch/bin/protoc",
    "torch/bin/FileStoreTest",
    "torch/bin/HashStoreTest",
    "torch/bin/TCPStoreTest",
    "torch/include/",
    "torch/share/",
    "torch/lib/libtorchbind_test",
    "torch/lib/libaoti_custom_ops",
    "torch/lib/libbackend_with_compiler",
    "PySide6/Qt/plugins/platformthemes/libqgtk3",
)

# On Linux the display-server client libraries (X11, xcb and its utilities, xkbcommon) come from the system, as
# libxcb, GL and Wayland do by PyInstaller's own rule: the bundle then holds the same files whatever the build
# machine had installed, and the .deb declares them (packaging/build_deb.py finds them with ldd).
SYSTEM_LIBRARIES = re.compile(
    r"(libxcb-[a-z-]+|libX11|libX11-xcb|libXau|libXdmcp|libxkbcommon|libxkbcommon-x11)\.so\.\d+"
)
# Where Linux's own libraries live: PyInstaller copies a library from here only because something in the bundle
# links it, so one that no kept file links any more (GTK's, once its Qt theme plugin is dropped) is dropped too.
SYSTEM_DIRECTORIES = ("/lib/", "/lib64/", "/usr/lib/", "/usr/lib64/")
Entry = tuple[str, str, str]


@dataclass(frozen=True)
class Executable:
    """One program over the bundle's shared folder."""

    name: str
    console: bool


@dataclass(frozen=True)
class BundleContents:
    """Everything the spec passes to PyInstaller that does not need PyInstaller to compute."""

    datas: tuple[tuple[str, str], ...]
    excludes: tuple[str, ...]
    icon: Path
    executables: tuple[Executable, ...]
    version_file: str | None


def is_windows(platform: str) -> bool:
    """Whether a sys.platform value names Windows."""
    return platform == "win32"


def contents(platform: str, environ: Mapping[str, str]) -> BundleContents:
    """The bundle's lists for a sys.platform value and the build's environment (build.py sets the version file)."""
    windows = is_windows(platform)
    datas = (
        (str(ROOT / "resources"), "resources"),
        (str(ROOT / "app" / "core" / "data"), "app/core/data"),
    )
    # On Windows the app is a windowed program; a console twin runs subcommands and --self-test with visible output.
    executables = (Executable("pixart-studio", console=not windows),)
    if windows:
        executables += (Executable("pixart-studio-cli", console=True),)
    return BundleContents(
        datas=datas,
        excludes=EXCLUDES,
        icon=ROOT / "resources" / "icons" / ("pixart-studio.ico" if windows else "pixart-studio.png"),
        executables=executables,
        version_file=environ.get("PIXART_STUDIO_VERSION_FILE") if windows else None,
    )


def is_needed(destination: str) -> bool:
    """Whether a collected file (its path inside the bundle, either slash) is one the app may load."""
    return not destination.replace("\\", "/").startswith(WASTE_PREFIXES)


def keeps_submodule(name: str, skip: str | None) -> bool:
    """Whether collect_submodules keeps a module of a SUBMODULE_TREES entry."""
    return skip is None or skip not in name


def from_system(destination: str, platform: str) -> bool:
    """Whether a library (its path inside the bundle) is one the bundle takes from the Linux system instead."""
    name = destination.replace("\\", "/").rsplit("/", 1)[-1]
    return platform.startswith("linux") and SYSTEM_LIBRARIES.fullmatch(name) is not None


def prune_binaries(binaries: list[Entry], imports: Callable[[str], Iterable[str]], platform: str) -> list[Entry]:
    """PyInstaller's binaries (dest, source, kind) less the system's display libraries and system copies none link.

    imports(source) names every library a file loads, its dependencies' dependencies included (ldd's answer).
    """
    if not platform.startswith("linux"):
        return binaries
    kept = [entry for entry in binaries if not from_system(entry[0], platform)]
    copied = {entry for entry in kept if entry[2] == "BINARY" and entry[1].startswith(SYSTEM_DIRECTORIES)}
    roots = [entry for entry in kept if entry not in copied and entry[2] != "SYMLINK"]  # extensions included
    linked = {name.rsplit("/", 1)[-1] for entry in roots for name in imports(entry[1])}
    return [entry for entry in kept if entry not in copied or entry[0].rsplit("/", 1)[-1] in linked]
