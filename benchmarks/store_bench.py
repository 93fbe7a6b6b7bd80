"""Gallery store at 10,000 images: page listing and prompt search must each take under 50 ms.

Run: python benchmarks/store_bench.py [--rows 10000] [--budget-ms 50] [--files]
Exits 1 when a target is missed. --files also writes one small image per row and times opening,
which must not read any image that is already indexed.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from PIL import Image

from app.core.request import GenerationRequest, GenerationResult
from app.store.gallery import Gallery
from app.store.index import IndexRow
from app.store.metadata import a1111_parameters, encode_image, metadata_json

WORDS = [
    "fox",
    "castle",
    "neon",
    "forest",
    "portrait",
    "ocean",
    "robot",
    "sunset",
    "city",
    "flower",
    "desert",
    "rain",
    "mountain",
    "poster",
    "tiger",
]


def _rows(count: int, with_files: Path | None) -> list[IndexRow]:
    """Rows like real saves (full settings JSON); with_files: also write a small image for each."""
    rng = random.Random(0)
    template = GenerationResult(image=Image.new("RGB", (64, 64)), request=GenerationRequest(prompt="x"))
    rows = []
    for number in range(count):
        prompt = " ".join(rng.sample(WORDS, 5)) + f", detailed, scene {number}"
        request = GenerationRequest(prompt=prompt, seed=number, width=1024, height=1024)
        result = GenerationResult(image=template.image, request=request, model_name="PixArt-Sigma-XL-2-1024-MS")
        created = 1_700_000_000 + number * 60 + rng.random()
        settings = metadata_json(result, created)
        relative = f"{time.strftime('%Y-%m-%d', time.localtime(created))}/{number:06d}.png"
        if with_files is not None:
            path = with_files / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(
                encode_image(result.image, "png", parameters=a1111_parameters(result), settings=settings, dpi=72)
            )
        rows.append(IndexRow.from_metadata(relative, settings, created, favourite=number % 10 == 0))
    return rows


def _median_ms(action: Callable[[], object], repeats: int = 15) -> float:
    action()  # warm the page cache and SQLite's statement cache
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main(argv: list[str] | None = None) -> int:
    """Build the gallery, time each operation, print a table; 1 if any exceeds the budget."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--budget-ms", type=float, default=50.0)
    parser.add_argument("--files", action="store_true", help="write image files too and time opening")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder) / "gallery"
        root.mkdir()
        start = time.perf_counter()
        rows = _rows(args.rows, root if args.files else None)
        with Gallery.open(root, use_system_trash=False) as gallery:
            if args.files:  # reconcile indexed the files; star every tenth as the bulk rows are
                for item_id in list(gallery.index.paths().values())[::10]:
                    gallery.index.update(item_id, favourite=True)
            else:
                gallery.index.insert_many(rows)
            print(f"built {gallery.count():,} rows in {time.perf_counter() - start:.1f} s")
            middle = args.rows // 2
            checks = {
                "first page (100)": lambda: gallery.page(0, 100),
                f"page at offset {middle:,}": lambda: gallery.page(middle, 100),
                "count all": lambda: gallery.count(),
                "search 'fox' (common), page": lambda: gallery.page(0, 100, "fox"),
                "search 'fox' count": lambda: gallery.count("fox"),
                "search 'neon tig' (two prefixes)": lambda: gallery.page(0, 100, "neon tig"),
                "search 'scene 4242' (rare)": lambda: gallery.page(0, 100, "scene 4242"),
                "favourites page": lambda: gallery.page(0, 100, favourites_only=True),
            }
            results = {name: _median_ms(action) for name, action in checks.items()}
        if args.files:
            opened = []
            real_open = Image.open
            Image.open = lambda path, *a, **k: opened.append(path) or real_open(path, *a, **k)
            try:
                start = time.perf_counter()
                Gallery.open(root, use_system_trash=False).close()
                results["open (reconcile listing)"] = (time.perf_counter() - start) * 1000
            finally:
                Image.open = real_open
            print(f"open read {len(opened)} image(s)")
            if opened:
                return 1

    failed = False
    for name, ms in results.items():
        budget = args.budget_ms if not name.startswith("open") else 40 * args.budget_ms
        verdict = "ok" if ms < budget else "TOO SLOW"
        failed |= ms >= budget
        print(f"{name:36s} {ms:8.2f} ms  (budget {budget:.0f} ms)  {verdict}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
