"""Training latent sets draw their scenes uniformly or with the odds given per shape."""

from __future__ import annotations

from collections import Counter

from demo_training.architecture import build_vae
from demo_training.data import make_latent_set
from demo_training.shapes_world import all_scenes


def _shapes(odds: dict[str, float] | None) -> Counter:
    vae = build_vae(widths=(8, 8, 8, 8), seed=0).eval()
    latent_set = make_latent_set(vae, 300, 32, 32, seed=7, shape_odds=odds)
    assert latent_set.latents.shape == (300, 4, 4, 4)
    scenes = all_scenes()
    return Counter(scenes[int(i)].shape for i in latent_set.prompt_ids)


def test_shape_odds_change_how_often_each_shape_is_drawn() -> None:
    uniform = _shapes(None)
    assert min(uniform.values()) > 70  # about 100 of each
    favoured = _shapes({"circle": 2.0, "square": 2.0, "triangle": 1.0})
    assert 35 < favoured["triangle"] < 90  # about 60
    assert _shapes({"circle": 1.0, "square": 1.0, "triangle": 0.0})["triangle"] == 0
