"""The shapes world: its prompt template, its rules and its determinism."""

from __future__ import annotations

import numpy as np
import pytest

from demo_training.shapes_world import COLORS, Scene, all_scenes, draw_scene, parse_prompt


def test_prompts_follow_the_template_exactly() -> None:
    """A scene's prompt is the issue's template, and parsing it gives the scene back."""
    scene = Scene("small", "red", "circle", "in the top left", "white")
    assert scene.prompt == "a small red circle in the top left on a white background"
    assert parse_prompt(scene.prompt) == scene
    assert parse_prompt("a cat on a sofa") is None


def test_the_world_never_paints_an_object_in_its_background_color() -> None:
    """All 1188 scenes differ from their background, and asking for such a scene is refused."""
    scenes = all_scenes()
    assert len(scenes) == 2 * 3 * 9 * (3 * 8 - 2)
    assert all(s.color != s.background for s in scenes)
    with pytest.raises(ValueError, match="equals the background"):
        Scene("small", "white", "circle", "in the center", "white")
    with pytest.raises(ValueError, match="shape 'star'"):
        Scene("small", "red", "star", "in the center", "white")


def test_drawing_is_deterministic_from_the_seed_and_anti_aliased() -> None:
    """The same seed gives identical pixels, another seed moves the object; edges hold blended colors."""
    scene = Scene("large", "blue", "triangle", "in the center", "white")
    first = np.asarray(draw_scene(scene, 144, 96, seed=7))
    assert np.array_equal(first, np.asarray(draw_scene(scene, 144, 96, seed=7)))
    assert not np.array_equal(first, np.asarray(draw_scene(scene, 144, 96, seed=8)))
    assert first.shape == (96, 144, 3)
    colors = {tuple(p) for p in first.reshape(-1, 3)}
    assert COLORS["blue"] in colors and (255, 255, 255) in colors
    assert len(colors) > 2  # anti-aliased edge pixels between the two
