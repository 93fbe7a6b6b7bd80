"""Bounds for settings read from images made elsewhere: text length, control characters, numbers, JSON."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from app.core.errors import InvalidRequestError
from app.core.request import MAX_GUIDANCE_SCALE, MAX_PROMPT_CHARS, MAX_SEED, MAX_STEPS, GenerationRequest, is_control
from app.core.schedulers import DEFAULT_SCHEDULER, SchedulerName
from app.core.sizes import MAX_SIDE, MIN_SIDE

FIELD_LIMIT = 64 * 1024  # characters kept of one displayed field
RAW_LIMIT = 1024 * 1024  # characters of one chunk parsed (ComfyUI workflows run to hundreds of KB)
_NUMBER_LIMIT = 40  # longer "numbers" are garbage; int() of 5,000 digits would raise anyway

# Other tools' sampler names (lower case, no punctuation) mapped to ours; exact when the algorithm matches.
_SAMPLERS: tuple[tuple[str, SchedulerName, bool], ...] = (
    ("dpm2mkarras", SchedulerName.DPM_SOLVER_KARRAS, True),
    ("dpmpp2mkarras", SchedulerName.DPM_SOLVER_KARRAS, True),
    ("dpmpp2mk", SchedulerName.DPM_SOLVER_KARRAS, True),  # InvokeAI's "_k": Karras sigmas
    ("dpmsolverkarras", SchedulerName.DPM_SOLVER_KARRAS, True),
    ("dpm2m", SchedulerName.DPM_SOLVER, True),
    ("dpmpp2m", SchedulerName.DPM_SOLVER, True),
    ("dpmsolver", SchedulerName.DPM_SOLVER, True),
    ("dpmsolvermultistep", SchedulerName.DPM_SOLVER, True),
    ("sasolver", SchedulerName.SA_SOLVER, True),
    ("euler", SchedulerName.EULER, True),
    ("eulerdiscrete", SchedulerName.EULER, True),
    ("ddim", SchedulerName.DDIM, True),
)
_FAMILIES = (("euler", SchedulerName.EULER), ("ddim", SchedulerName.DDIM), ("dpm", SchedulerName.DPM_SOLVER))


def text(value: object, limit: int = FIELD_LIMIT) -> str:
    """Any value as bounded text without control characters (newlines and tabs kept)."""
    if isinstance(value, bytes):
        value = value[: limit * 4].decode("utf-8", errors="replace")
    elif not isinstance(value, str):
        value = json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (dict, list)) else str(value)
    value = value[:limit]
    return "".join(c for c in value if c in "\n\t" or not is_control(c))


def json_value(raw: object) -> Any | None:
    """Parsed JSON, or None for anything invalid, too large or too deeply nested; never evaluated."""
    if isinstance(raw, bytes):
        raw = raw.decode("utf-8", errors="replace")
    if not isinstance(raw, str) or len(raw) > RAW_LIMIT:
        return None
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        return None


def json_object(raw: object) -> dict[str, Any] | None:
    """A JSON object (dict) from text, a dict unchanged, else None."""
    value = raw if isinstance(raw, dict) else json_value(raw)
    return value if isinstance(value, dict) else None


def number(value: object) -> float | None:
    """A finite number from a JSON value or short text ('20', '4.5'), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value) if abs(value) < 1e300 else math.inf
    elif isinstance(value, str) and len(value.strip()) <= _NUMBER_LIMIT:
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def whole_number(value: object) -> int | None:
    """An integer from a JSON value or text; big integers stay exact (seeds need all 64 bits)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[-+]?\d{1,30}\s*", value):
        return int(value)
    parsed = number(value)
    return int(parsed) if parsed is not None and parsed == int(parsed) else None


def scheduler_for(name: str) -> tuple[SchedulerName, bool]:
    """Our sampler closest to another tool's name, and whether it is the same algorithm."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())  # "DPM++ 2M Karras" -> "dpm2mkarras"
    for value in SchedulerName:
        if re.sub(r"[^a-z0-9]", "", value.value) == key:
            return value, True
    for pattern, scheduler, exact in _SAMPLERS:
        if key == pattern:
            return scheduler, exact
    if "karras" in key and "dpm" in key:
        return SchedulerName.DPM_SOLVER_KARRAS, False
    for word, scheduler in _FAMILIES:
        if word in key:
            return scheduler, False
    return DEFAULT_SCHEDULER, False


def _clamped(name: str, value: float, low: float, high: float, notes: list[str]) -> float:
    if low <= value <= high:
        return value
    kept = min(max(value, low), high)
    notes.append(f"{name} {value:g} is out of range; {kept:g} is used")
    return kept


def build_request(loose: dict[str, object], image_size: tuple[int, int], notes: list[str]) -> GenerationRequest | None:
    """A re-runnable request from loosely typed fields, clamped into range; every change is noted.

    Keys: prompt, negative_prompt, width, height, steps, guidance_scale, seed, sampler. Missing
    numbers take the request defaults; a missing size takes the image's own size.
    """
    defaults = GenerationRequest(prompt="")
    values: dict[str, Any] = {}
    for key in ("prompt", "negative_prompt"):
        prompt = text(loose.get(key) or "")
        if len(prompt) > MAX_PROMPT_CHARS:
            notes.append(f"{key} was cut to {MAX_PROMPT_CHARS:,} characters")
            prompt = prompt[:MAX_PROMPT_CHARS]
        values[key] = prompt
    steps = _numeric(loose, "steps", notes)
    values["steps"] = int(_clamped("steps", round(steps), 1, MAX_STEPS, notes)) if steps is not None else defaults.steps
    guidance = _numeric(loose, "guidance_scale", notes)
    values["guidance_scale"] = (
        _clamped("guidance_scale", guidance, 0.0, MAX_GUIDANCE_SCALE, notes)
        if guidance is not None
        else defaults.guidance_scale
    )
    values["seed"] = _seed(loose.get("seed"), notes)
    for index, key in enumerate(("width", "height")):
        side = _numeric(loose, key, notes)
        side = image_size[index] if side is None else side
        values[key] = int(_clamped(key, round(side), MIN_SIDE, MAX_SIDE, notes))
    sampler = text(loose.get("sampler") or "", 200).strip()
    if sampler:
        values["scheduler"], exact = scheduler_for(sampler)
        if not exact:
            notes.append(f"sampler {sampler!r} is not available; {values['scheduler'].value} is used")
    try:
        return GenerationRequest(**values)
    except InvalidRequestError as exc:
        notes.append(f"these settings cannot be re-run: {exc}")
        return None


def _numeric(loose: dict[str, object], key: str, notes: list[str]) -> float | None:
    raw = loose.get(key)
    if raw is None or raw == "":
        return None
    value = number(raw)
    if value is None:
        notes.append(f"{key} {text(raw, 40)!r} is not a number; the default is used")
    return value


def _seed(raw: object, notes: list[str]) -> int:
    if raw is None or raw == "":
        return 0
    seed = whole_number(raw)
    if seed is None:
        notes.append(f"seed {text(raw, 40)!r} is not a whole number; 0 is used")
        return 0
    if seed < 0:
        notes.append(f"seed {seed} (random) has no fixed value; 0 is used")
        return 0
    if seed > MAX_SEED:
        notes.append(f"seed {seed} is above {MAX_SEED}; {seed % (MAX_SEED + 1)} is used")
        return seed % (MAX_SEED + 1)
    return seed
