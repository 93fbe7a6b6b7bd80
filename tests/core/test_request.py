"""GenerationRequest: cleaned and validated once, at the edge, and round-trips through JSON."""

from __future__ import annotations

import json

import pytest

from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest, KVCompressionMode
from app.core.schedulers import SchedulerName


def test_control_characters_are_stripped_from_prompts():
    """Pasted control characters never reach the tokenizer or the metadata."""
    request = GenerationRequest("a\x00 red\x1b circle\n on  white", negative_prompt="\x07blurry")
    assert request.prompt == "a red circle on white"
    assert request.negative_prompt == "blurry"


def test_empty_prompt_is_allowed_but_flagged():
    """An empty prompt is valid (unconditional) but reported so the UI can warn."""
    assert not GenerationRequest("").has_prompt


def test_round_trip_through_json_is_exact():
    """to_dict → JSON → from_dict gives the same request (used by image metadata)."""
    request = GenerationRequest(
        "poster", width=1920, height=1080, seed=2**40, scheduler="sa-solver", kv_compression="on", tier_scale=2.0
    )
    again = GenerationRequest.from_dict(json.loads(json.dumps(request.to_dict())))
    assert again == request
    assert again.scheduler is SchedulerName.SA_SOLVER
    assert again.kv_compression is KVCompressionMode.ON


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("steps", 0, "steps"),
        ("steps", 2.5, "steps"),
        ("seed", -1, "seed"),
        ("guidance_scale", float("nan"), "guidance_scale"),
        ("scheduler", "heun++", "scheduler"),
        ("width", 100000, "width"),
        ("batch_size", 0, "batch_size"),
    ],
)
def test_bad_values_name_the_field(field, value, message):
    """Each bad value raises InvalidRequestError naming the field."""
    with pytest.raises(InvalidRequestError, match=message):
        GenerationRequest("x", **{field: value})


def test_batch_seeds_are_consecutive():
    """with_seed keeps every setting and makes a single image."""
    request = GenerationRequest("x", seed=7, batch_size=4)
    single = request.with_seed(9)
    assert (single.seed, single.batch_size, single.prompt) == (9, 1, "x")
