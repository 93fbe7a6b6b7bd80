"""The AUTOMATIC1111 `parameters` text: written into every image, and read back from anyone's."""

from __future__ import annotations

import json
import re
from typing import Any

from app import __version__
from app.core.schedulers import SchedulerName
from app.store.sanitize import FIELD_LIMIT, text

NEGATIVE_PREFIX = "Negative prompt:"
# Keys are short; bounding them keeps parsing linear on hostile 64 KB lines.
_KEY = re.compile(r"\s*(\w[\w \-/]{0,63}):\s*")
_QUOTED = re.compile(r'"(?:\\.|[^\\"])*"')
_SIZE = re.compile(r"^\s*(\d{1,6})\s*[x×*]\s*(\d{1,6})\s*$")

# How A1111-style tools name our samplers; readers map them back (see sanitize.scheduler_for).
SAMPLER_LABELS: dict[SchedulerName, str] = {
    SchedulerName.DPM_SOLVER: "DPM++ 2M",
    SchedulerName.DPM_SOLVER_KARRAS: "DPM++ 2M Karras",
    SchedulerName.SA_SOLVER: "SA-Solver",
    SchedulerName.EULER: "Euler",
    SchedulerName.DDIM: "DDIM",
}
# The keys A1111 readers understand, plus ours; others are shown as unknown.
KNOWN_KEYS = frozenset(
    {
        "Steps",
        "Sampler",
        "Schedule type",
        "CFG scale",
        "Seed",
        "Size",
        "Model",
        "Model hash",
        "Version",
        "KV compression",
        "Generation",
        "Sampled size",
        "Refine strength",
        "Denoising strength",
        "Mask blur",
        "Inpaint area",
        "Masked area padding",
        "Mode",
        "Outpaint extend",
        "Source hash",
        "DPI",
    }
)


def quote(value: object) -> str:
    """A1111's quoting: values with commas, colons or newlines become JSON strings."""
    value = str(value)
    if "," not in value and "\n" not in value and ":" not in value and not value.startswith('"'):
        return value
    return json.dumps(value, ensure_ascii=False)


def _layer_runs(layers: list[int]) -> str:
    runs: list[str] = []
    for layer in sorted(set(layers)):
        if runs and runs[-1].split("-")[-1] == str(layer - 1):
            runs[-1] = f"{runs[-1].split('-')[0]}-{layer}"
        else:
            runs.append(str(layer))
    return " ".join(runs)


def format_parameters(meta: dict[str, Any]) -> str:
    """A1111 `parameters` text from GenerationResult.metadata() output, with our own fields at the end."""
    request = meta["request"]
    lines = [request["prompt"]]
    if request.get("negative_prompt"):
        lines.append(f"{NEGATIVE_PREFIX} {request['negative_prompt']}")
    scheduler = SchedulerName(request["scheduler"])
    model = meta.get("model_name") or request.get("model", "")
    layers = meta.get("kv_compression_layers") or []
    sampled = (meta.get("sampled_width"), meta.get("sampled_height"))
    shows_sampled = all(sampled) and sampled != (request["width"], request["height"])
    text_mode = request.get("mode", "text") == "text"
    params: dict[str, object] = {
        "Steps": request["steps"],
        "Sampler": SAMPLER_LABELS[scheduler],
        "CFG scale": f"{request['guidance_scale']:g}",
        "Seed": request["seed"],
        "Size": f"{request['width']}x{request['height']}",
        "Model hash": (meta.get("model_hash") or "")[:10],
        "Model": f"{model} (demo)" if meta.get("is_demo_model") else model,
        "KV compression": f"layers {_layer_runs(layers)} R{meta.get('kv_compression_ratio', 1)}" if layers else "off",
        "Generation": meta.get("path", "native"),
        "Sampled size": f"{sampled[0]}x{sampled[1]}" if shows_sampled else "",
        "Refine strength": f"{request['refine_strength']:g}" if meta.get("path") == "refine" and text_mode else "",
        **_image_mode_params(request),
        "DPI": request["dpi"] if request.get("dpi", 72) != 72 else "",
        "Version": f"PixArt Studio {__version__}",
    }
    lines.append(", ".join(f"{key}: {quote(value)}" for key, value in params.items() if value not in ("", None)))
    return "\n".join(lines)


def _image_mode_params(request: dict[str, Any]) -> dict[str, object]:
    """What A1111 writes for img2img and inpaint (denoising strength, mask blur, only masked), and our mode."""
    mode = request.get("mode", "text")
    if mode == "text":
        return {}
    masked = mode in ("inpaint", "outpaint")
    source = request.get("source") or {}
    extend = request.get("extend") or []
    return {
        "Denoising strength": f"{request['strength']:g}",
        "Mask blur": request.get("mask_blur", 4) if masked else "",
        "Inpaint area": "Only masked" if request.get("masked_only") else "",
        "Masked area padding": request.get("masked_padding", 32) if request.get("masked_only") else "",
        "Mode": mode,
        "Outpaint extend": ",".join(str(side) for side in extend) if mode == "outpaint" else "",
        "Source hash": str(source.get("sha256", ""))[:10],
    }


def split_params(line: str) -> dict[str, str]:
    """`Key: value, Key: "quoted, value"` pairs of the last line; unparsable stretches are skipped."""
    pairs: dict[str, str] = {}
    position = 0
    while position < len(line):
        key_match = _KEY.match(line, position)
        if key_match is None:
            comma = line.find(",", position)
            position = len(line) if comma < 0 else comma + 1
            continue
        position = key_match.end()
        quoted = _QUOTED.match(line, position) if line.startswith('"', position) else None
        if quoted is not None:
            try:
                value = json.loads(quoted.group(0))
            except ValueError:
                value = quoted.group(0)[1:-1]
            position = quoted.end()
            comma = line.find(",", position)
            position = len(line) if comma < 0 else comma + 1
        else:
            comma = line.find(",", position)
            end = len(line) if comma < 0 else comma
            value, position = line[position:end], end + 1
        pairs[key_match.group(1).strip()] = text(str(value).strip())
    return pairs


def parse_parameters(raw: str) -> tuple[str, str, dict[str, str]]:
    """(prompt, negative prompt, {key: value}) from A1111 `parameters` text."""
    *lines, last = text(raw, FIELD_LIMIT * 4).strip().split("\n")
    params = split_params(last)
    if len(params) < 3:  # A1111's own rule: a prompt line is not a parameter line
        lines.append(last)
        params = {}
    prompt: list[str] = []
    negative: list[str] = []
    for line in lines:
        if line.startswith(NEGATIVE_PREFIX) or negative:
            negative.append(line.removeprefix(NEGATIVE_PREFIX).strip())
        else:
            prompt.append(line)
    return text("\n".join(prompt).strip()), text("\n".join(negative).strip()), params


def loose_fields(prompt: str, negative: str, params: dict[str, str]) -> dict[str, object]:
    """The build_request keys from parsed A1111 text."""
    loose: dict[str, object] = {
        "prompt": prompt,
        "negative_prompt": negative,
        "steps": params.get("Steps"),
        "guidance_scale": params.get("CFG scale"),
        "seed": params.get("Seed"),
        "sampler": params.get("Sampler", ""),
    }
    if params.get("Schedule type", "").lower() == "karras" and "karras" not in str(loose["sampler"]).lower():
        loose["sampler"] = f"{loose['sampler']} Karras"
    size = _SIZE.match(params.get("Size", ""))
    if size:
        loose["width"], loose["height"] = int(size.group(1)), int(size.group(2))
    return loose
