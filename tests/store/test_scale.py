"""Paging and search stay correct at 10,000 images (speed is measured in benchmarks/store_bench.py)."""

from __future__ import annotations

import random
import unicodedata

import pytest

from app.store.gallery import Gallery
from app.store.index import IndexRow

COUNT = 10_000
WORDS = ["fox", "castle", "neon", "forest", "portrait", "ocean", "robot", "sunset", "city", "flower", "ünïcode"]


@pytest.fixture
def big_gallery(gallery: Gallery) -> tuple[Gallery, list[IndexRow]]:
    """A gallery index with 10,000 rows, inserted in bulk (no image files are written)."""
    rng = random.Random(5)
    rows = []
    for number in range(COUNT):
        prompt = " ".join(rng.sample(WORDS, 3)) + f" scene{number}"
        request = {"prompt": prompt, "seed": number, "steps": 20, "width": 1024, "height": 1024}
        created = 1_700_000_000 + rng.randrange(10**7)  # not in insertion order
        rows.append(IndexRow.from_metadata(f"2024-01-01/{number}.png", {"request": request}, created, number % 7 == 0))
    gallery.index.insert_many(rows)
    return gallery, rows


def test_paging_walks_all_rows_newest_first(big_gallery: tuple[Gallery, list[IndexRow]]) -> None:
    """Pages of 200 cover every image exactly once, in descending creation time."""
    gallery, _ = big_gallery
    assert gallery.count() == COUNT
    seen = []
    for offset in range(0, COUNT, 200):
        seen.extend(gallery.page(offset, 200))
    assert len({item.id for item in seen}) == COUNT
    times = [item.created_at for item in seen]
    assert times == sorted(times, reverse=True)
    assert gallery.page(COUNT, 200) == []


def test_search_matches_a_reference_filter(big_gallery: tuple[Gallery, list[IndexRow]]) -> None:
    """Search results equal a plain Python filter over the prompts (words, prefixes, any case or accent)."""
    gallery, rows = big_gallery

    def fold(text: str) -> str:
        return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))

    def expected(words: list[str], favourites_only: bool = False) -> set[str]:
        return {
            row.prompt
            for row in rows
            if all(any(token.startswith(word) for token in fold(row.prompt).split()) for word in words)
            and (row.favourite or not favourites_only)
        }

    for query, favourites in [("fox", False), ("neon cas", False), ("UNICODE", False), ("robot", True)]:
        words = fold(query).split()
        found = {item.prompt for item in gallery.page(0, COUNT, query, favourites)}
        assert found == expected(words, favourites), query
        assert gallery.count(query, favourites) == len(found)
    assert gallery.count("scene1234") == 1
    assert [item.seed for item in gallery.page(0, 5, "scene9999")] == [9999]
