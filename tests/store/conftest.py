"""Results with small PIL images (no torch) and a fresh gallery for each store test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from app.core.request import GenerationRequest, GenerationResult
from app.core.sizes import GenerationPath
from app.store.gallery import Gallery


def make_result(prompt: str = "a red fox in snow", seed: int = 7, size: tuple[int, int] = (64, 64), **request_options):
    """A finished result whose pixels depend on the seed, so files can be told apart."""
    request = GenerationRequest(prompt=prompt, seed=seed, width=size[0], height=size[1], **request_options)
    image = Image.new("RGB", size, ((seed * 37) % 256, (seed * 91) % 256, 128))
    return GenerationResult(
        image=image,
        request=request,
        path=GenerationPath.NATIVE,
        sampled_width=size[0],
        sampled_height=size[1],
        kv_compression_layers=(14, 15, 16),
        kv_compression_ratio=2,
        model_name="PixArt-Sigma-XL-2-1024-MS",
        model_hash="0123456789abcdef",
        duration_s=1.5,
    )


@pytest.fixture
def result_factory() -> Callable[..., GenerationResult]:
    """make_result as a fixture."""
    return make_result


@pytest.fixture
def gallery_root(tmp_path: Path) -> Path:
    """Where the test's gallery lives."""
    return tmp_path / "gallery"


@pytest.fixture
def gallery(gallery_root: Path, tmp_path: Path) -> Iterator[Gallery]:
    """An open, empty gallery using the in-gallery .trash (never the user's system trash)."""
    store = Gallery.open(gallery_root, tmp_path / "thumbnails", use_system_trash=False)
    yield store
    store.close()
