"""DemoBench's pixel scorer, checked on drawn ground-truth images."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image

from app.core.sizes import aspect_bin
from demo_training.demobench import accuracy, bench_items
from demo_training.scoring import read_image, score
from demo_training.shapes_world import Scene, all_scenes, draw_scene


def test_scorer_reads_every_attribute_of_drawn_scenes_at_every_aspect() -> None:
    """On 300 drawn scenes over five aspect-ratio bins, color, cell, size and shape are all read correctly."""
    rng = random.Random(3)
    sizes = [aspect_bin(w, h, 128) for w, h in ((1, 1), (4, 3), (3, 4), (16, 9), (9, 16))]
    for i, scene in enumerate(rng.sample(all_scenes(), 300)):
        width, height = sizes[i % len(sizes)]
        reading = read_image(draw_scene(scene, width, height, seed=i))
        assert reading.background == scene.background
        assert score(reading, scene)["all"], (scene, reading)


def test_scorer_ignores_stray_specks_and_reports_a_missing_object() -> None:
    """Noise specks do not move the object's cell; an empty canvas scores no attribute."""
    scene = Scene("small", "green", "square", "in the bottom right", "black")
    pixels = np.asarray(draw_scene(scene, 128, 128, seed=1)).copy()
    pixels[5:7, 60:62] = (255, 255, 255)  # a speck at the top
    reading = read_image(Image.fromarray(pixels))
    assert (reading.color, reading.position, reading.shape) == ("green", "in the bottom right", "square")
    empty = read_image(Image.new("RGB", (128, 128), (128, 128, 128)))
    assert empty.background == "gray" and empty.color is None
    assert score(empty, scene) == {"color": False, "position": False, "size": False, "shape": False, "all": False}


def test_a_wrong_image_loses_exactly_the_attributes_it_gets_wrong() -> None:
    """Drawing another color at another size keeps position and shape correct and fails the rest."""
    asked = Scene("small", "red", "circle", "at the top", "white")
    drawn = Scene("large", "blue", "circle", "at the top", "white")
    marks = score(read_image(draw_scene(drawn, 128, 128, seed=2)), asked)
    assert marks == {"color": False, "position": True, "size": False, "shape": True, "all": False}


def test_demobench_is_fixed_large_and_disjoint_from_validation() -> None:
    """DemoBench has ≥200 fixed items; ground-truth drawings of them score 100%; validation seeds differ."""
    items = bench_items(128)
    assert len(items) >= 200 and items == bench_items(128)
    validation = bench_items(128, validation=True)
    assert not {i.seed for i in items} & {i.seed for i in validation}
    images = [draw_scene(i.scene, i.width, i.height, i.seed) for i in items]
    assert accuracy(items, images)["all"] == 1.0
