"""`pixart-studio --self-test`: proof that an install or a bundle is complete, from source or frozen."""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from app.core.wording import counted

REQUIRED_IMAGE_FORMATS = ("png", "jpeg", "webp")


def _check_qt() -> str:
    """Qt Widgets start offscreen and can read and write every image format the app exports."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QGuiApplication, QImageReader, QImageWriter
    from PySide6.QtWidgets import QApplication

    _app = QApplication.instance() or QApplication(["pixart-studio-self-test"])
    readable = {bytes(f.data()).decode() for f in QImageReader.supportedImageFormats()}
    writable = {bytes(f.data()).decode() for f in QImageWriter.supportedImageFormats()}
    missing = [f for f in REQUIRED_IMAGE_FORMATS if f not in readable or f not in writable]
    if missing:
        raise RuntimeError(f"Qt image format plugins missing: {', '.join(missing)} (imageformats plugins not bundled)")
    return f"Qt {_qt_version()} on '{QGuiApplication.platformName()}', image formats ok"


def _qt_version() -> str:
    from PySide6 import __version__

    return __version__


def _check_generation(out_dir: Path) -> str:
    """The demo model loads through the normal loader and paints a non-blank image that saves with metadata."""
    from PIL import ImageStat

    from app.core.request import GenerationRequest
    from app.engine.pipeline import Pipeline
    from app.engine.quiet import quiet_libraries
    from app.store.metadata import png_info

    quiet_libraries()  # one line per check, without the libraries' "Loading weights" bars
    started = time.perf_counter()
    pipeline = Pipeline.load("demo")
    native = pipeline.info.native_resolution
    request = GenerationRequest(
        "a large red circle in the center on a white background", width=native, height=native, seed=1
    )
    result = pipeline.generate(request)[0]
    spread = max(ImageStat.Stat(result.image.convert("RGB")).stddev)
    if spread < 5.0:
        raise RuntimeError(f"the generated image is blank (pixel standard deviation {spread:.2f})")
    target = out_dir / "self-test.png"
    result.image.save(target, pnginfo=png_info(result))
    pipeline.close()
    seconds = time.perf_counter() - started
    size = f"{result.image.width}×{result.image.height}"
    return f"demo model {pipeline.info.name!r} on {result.device}: {size} in {seconds:.1f} s"


def _check_readback(out_dir: Path) -> str:
    """The saved PNG opens in Qt and its generation settings read back."""
    from PySide6.QtGui import QImage

    from app.store.metadata import read_image_metadata

    target = out_dir / "self-test.png"
    if QImage(str(target)).isNull():
        raise RuntimeError(f"Qt cannot open the image it just saved: {target}")
    settings = read_image_metadata(target)
    if settings.request is None:
        raise RuntimeError("the saved image carries no readable generation settings")
    return f"image and settings read back ({settings.source})"


def run_self_test() -> int:
    """Run every check, print one line each, and return 0 only when all pass."""
    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    print(f"PixArt Studio self-test ({frozen}, Python {sys.version.split()[0]})")
    failures = 0
    with tempfile.TemporaryDirectory(prefix="pixart-studio-self-test-") as tmp:
        out_dir = Path(tmp)
        checks: list[tuple[str, Callable[[], str]]] = [
            ("qt", _check_qt),
            ("generate", lambda: _check_generation(out_dir)),
            ("read back", lambda: _check_readback(out_dir)),
        ]
        for name, check in checks:
            try:
                print(f"  ok    {name}: {check()}")
            except Exception as error:  # every failure is reported, then the next check runs
                failures += 1
                print(f"  FAIL  {name}: {error}")
                if os.environ.get("PIXART_STUDIO_DEBUG"):
                    traceback.print_exc()
                if name == "generate":
                    break
    print("self-test passed" if failures == 0 else f"self-test FAILED ({counted(failures, 'check')})")
    return 0 if failures == 0 else 1
