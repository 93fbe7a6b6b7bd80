"""A process killed with SIGKILL in the middle of many saves leaves a consistent gallery."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from app.store.files import scan_images
from app.store.gallery import Gallery

_SAVER = """
import os, sys
from pathlib import Path
from PIL import Image
from app.core.request import GenerationRequest, GenerationResult
from app.store.gallery import Gallery

gallery = Gallery.open(Path(sys.argv[1]), use_system_trash=False)
for seed in range(int(sys.argv[2]), 10**6):
    noise = Image.frombytes("RGB", (384, 384), os.urandom(384 * 384 * 3))  # incompressible: slow, large writes
    request = GenerationRequest(prompt=f"crash test {seed}", seed=seed, width=384, height=384)
    gallery.save(GenerationResult(image=noise, request=request))
    print(seed, flush=True)
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX only")
def test_sigkill_during_saves_leaves_a_consistent_store(gallery_root: Path) -> None:
    """After repeated kill -9 mid-save: every row has a complete file, every finished file is indexed."""
    rng = random.Random(0)
    environment = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    reported: set[int] = set()
    next_seed = 0
    for _ in range(5):  # about one kill in four lands inside a file write
        saver = subprocess.Popen(
            [sys.executable, "-c", _SAVER, str(gallery_root), str(next_seed)],
            stdout=subprocess.PIPE,
            text=True,
            env=environment,
        )
        assert saver.stdout is not None
        for _ in range(4):  # let a few saves finish, then kill at a random moment of the next ones
            reported.add(int(saver.stdout.readline()))
        time.sleep(rng.uniform(0.0, 0.05))
        saver.send_signal(signal.SIGKILL)
        saver.wait()
        reported.update(int(line) for line in saver.stdout.read().split())
        next_seed = max(reported) + 100

    with Gallery.open(gallery_root, use_system_trash=False) as store:
        items = store.page(0, 1000)
        indexed = {item.path for item in items}
        on_disk = set(scan_images(gallery_root).values())
        assert store.open_report.skipped == ()
    assert indexed == on_disk  # no row without a file, no finished file without a row (reconcile picked it up)
    assert reported <= {item.seed for item in items}  # every save that returned is kept
    for path in on_disk:
        with Image.open(path) as image:
            image.load()  # complete, decodable pixels
            assert image.size == (384, 384)
