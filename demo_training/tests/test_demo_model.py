"""The shipped demo model draws what a shapes-world prompt asks for, read back from the pixels."""

from __future__ import annotations

import json

import pytest

from app.core.request import GenerationRequest
from app.core.resources import demo_model_dir
from demo_training.scoring import read_image
from demo_training.shapes_world import Scene

# One prompt per grid cell, colors and backgrounds varied; seeds outside training and DemoBench.
PROMPTS: tuple[Scene, ...] = (
    Scene("large", "red", "circle", "in the top left", "white"),
    Scene("small", "blue", "square", "at the top", "gray"),
    Scene("large", "yellow", "triangle", "in the top right", "black"),
    Scene("large", "green", "square", "on the left", "white"),
    Scene("small", "white", "circle", "in the center", "black"),
    Scene("large", "purple", "circle", "on the right", "gray"),
    Scene("small", "orange", "triangle", "in the bottom left", "black"),
    Scene("large", "black", "square", "at the bottom", "white"),
    Scene("large", "blue", "triangle", "in the bottom right", "white"),
)


@pytest.fixture(scope="module")
def pipeline():
    """The shipped demo model, loaded through the engine like any model."""
    from app.engine.pipeline import Pipeline

    if not (demo_model_dir() / "model_index.json").is_file():
        pytest.fail(f"the demo model is missing from {demo_model_dir()}; run `pixart-studio train-demo`")
    return Pipeline.load(demo_model_dir())


def test_demo_model_is_marked_as_a_demo() -> None:
    """studio.json labels the folder as the demo and says how to get the real PixArt-Σ weights."""
    studio = json.loads((demo_model_dir() / "studio.json").read_text(encoding="utf-8"))
    assert studio["is_demo"] is True
    assert "PixArt-Sigma" in studio["how_to_get_real_weights"]
    report = json.loads((demo_model_dir() / "training_report.json").read_text(encoding="utf-8"))
    assert studio["guidance_scale"] == report["recommended_guidance"]  # chosen by train-demo on validation items


def test_demo_model_paints_the_asked_color_in_the_asked_cell(pipeline) -> None:
    """At the model's default settings (its recommended guidance) and native size, at least 8 of 9 prompts get both
    color and grid cell right."""
    right = 0
    readings = []
    for seed, scene in enumerate(PROMPTS, start=900_000):
        request = GenerationRequest(
            prompt=scene.prompt, width=128, height=128, seed=seed, guidance_scale=pipeline.info.guidance_scale
        )
        result = pipeline.generate(request)[0]
        assert result.is_demo_model and result.image.size == (128, 128)
        reading = read_image(result.image)
        readings.append((scene.prompt, reading))
        right += reading.color == scene.color and reading.position == scene.position
    assert right >= 8, readings
