"""Readers for images made by other tools: ComfyUI, InvokeAI, Fooocus and Draw Things.

Each reader takes the image's text chunks (already bounded) and returns a Reading, or None when
the image is not theirs. Values are only ever parsed as JSON or matched by patterns, never evaluated.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from app.store import a1111
from app.store.sanitize import json_object, text

_MAX_HOPS = 16  # links followed through a ComfyUI graph; cycles and deep chains stop here
_MAX_UNKNOWN = 200  # unknown keys kept per image
_RESOLUTION = re.compile(r"^\D{0,4}(\d{1,6})\D{1,4}(\d{1,6})\D{0,4}$")


@dataclass
class Reading:
    """What a reader understood: request fields (loose), labelled fields to show, and the rest."""

    source: str
    loose: dict[str, object]
    fields: dict[str, str]
    unknown: dict[str, str] = field(default_factory=dict)


def _labelled(pairs: dict[str, object]) -> dict[str, str]:
    return {label: text(value) for label, value in pairs.items() if value not in (None, "", [], {})}


def _rest(data: dict[str, Any], used: set[str]) -> dict[str, str]:
    keys = [key for key in data if key not in used][:_MAX_UNKNOWN]
    return {text(key, 200): text(data[key]) for key in keys}


def _size(value: object) -> tuple[int, int] | None:
    match = _RESOLUTION.match(text(value, 40)) if value is not None else None
    return (int(match.group(1)), int(match.group(2))) if match else None


# ComfyUI ------------------------------------------------------------------------------------------


class _ComfyGraph:
    """The API-format `prompt` graph: {node id: {"class_type", "inputs"}}, links as [node id, slot]."""

    def __init__(self, graph: dict[str, Any]) -> None:
        self.nodes = {str(key): node for key, node in graph.items() if isinstance(node, dict)}

    def inputs(self, node_id: str) -> dict[str, Any]:
        inputs = self.nodes.get(node_id, {}).get("inputs")
        return inputs if isinstance(inputs, dict) else {}

    @staticmethod
    def link(value: object) -> str | None:
        if isinstance(value, list) and len(value) == 2 and isinstance(value[0], (str, int)):
            return str(value[0])
        return None

    def value(self, value: object, keys: tuple[str, ...] = ("value", "seed", "int", "float", "string", "text")) -> Any:
        """A widget value, following links to primitive nodes."""
        for _ in range(_MAX_HOPS):
            node_id = self.link(value)
            if node_id is None:
                return value
            inputs = self.inputs(node_id)
            value = next((inputs[key] for key in keys if key in inputs), None)
        return None

    def find(self, start: object, wanted: tuple[str, ...]) -> Any:
        """The first of `wanted` inputs on a node reachable upstream of the link `start`."""
        queue, seen = [self.link(start)], set[str]()
        while queue and len(seen) < _MAX_HOPS * 4:
            node_id = queue.pop(0)
            if node_id is None or node_id in seen:
                continue
            seen.add(node_id)
            inputs = self.inputs(node_id)
            for key in wanted:
                if key in inputs:
                    found = self.value(inputs[key])
                    if isinstance(found, (str, int, float)) and not isinstance(found, bool):
                        return found
            queue.extend(self.link(value) for value in inputs.values())
        return None

    def sampler(self) -> dict[str, Any] | None:
        candidates = [
            node_id
            for node_id in self.nodes
            if {"steps", "positive"} <= set(self.inputs(node_id))
            and ({"seed", "noise_seed"} & set(self.inputs(node_id)))
        ]
        candidates.sort(key=lambda node_id: "KSampler" not in str(self.nodes[node_id].get("class_type", "")))
        return self.inputs(candidates[0]) if candidates else None


def comfyui(chunks: dict[str, str]) -> Reading | None:
    """ComfyUI: the `prompt` graph (API format), else the `workflow` (UI format)."""
    graph = json_object(chunks.get("prompt"))
    workflow = json_object(chunks.get("workflow"))
    unknown = {"workflow": text(chunks["workflow"])} if "workflow" in chunks else {}
    if graph and any(isinstance(node, dict) and "class_type" in node for node in graph.values()):
        comfy = _ComfyGraph(graph)
        sampler = comfy.sampler()
        if sampler is not None:
            return Reading("comfyui", *_comfy_fields(comfy, sampler), unknown)
    if workflow and isinstance(workflow.get("nodes"), list):
        reading = _comfy_workflow(workflow)
        if reading is not None:
            reading.unknown = unknown
        return reading
    return None


def _comfy_fields(comfy: _ComfyGraph, inputs: dict[str, Any]) -> tuple[dict[str, object], dict[str, str]]:
    text_keys = ("text", "text_g", "string", "value")
    sampler_name = text(comfy.value(inputs.get("sampler_name", "")), 100)
    scheduler = text(comfy.value(inputs.get("scheduler", "")), 100)
    loose = {
        "prompt": comfy.find(inputs.get("positive"), text_keys),
        "negative_prompt": comfy.find(inputs.get("negative"), text_keys),
        "seed": comfy.value(inputs.get("seed", inputs.get("noise_seed"))),
        "steps": comfy.value(inputs.get("steps")),
        "guidance_scale": comfy.value(inputs.get("cfg")),
        "sampler": f"{sampler_name} karras" if scheduler == "karras" else sampler_name,
        "width": comfy.find(inputs.get("latent_image"), ("width",)),
        "height": comfy.find(inputs.get("latent_image"), ("height",)),
    }
    model = comfy.find(inputs.get("model"), ("ckpt_name", "unet_name", "model_name"))
    fields = _labelled(
        {
            "Prompt": loose["prompt"],
            "Negative prompt": loose["negative_prompt"],
            "Seed": loose["seed"],
            "Steps": loose["steps"],
            "CFG scale": loose["guidance_scale"],
            "Sampler": sampler_name,
            "Scheduler": scheduler,
            "Size": f"{loose['width']}x{loose['height']}" if loose["width"] and loose["height"] else "",
            "Model": model,
            "Denoise": comfy.value(inputs.get("denoise")),
        }
    )
    return loose, fields


def _comfy_workflow(workflow: dict[str, Any]) -> Reading | None:
    """The UI-format workflow: nodes with widgets_values, links as [id, from, slot, to, slot, type]."""
    nodes = {node.get("id"): node for node in workflow["nodes"] if isinstance(node, dict)}
    links = {link[0]: link[1] for link in workflow.get("links") or [] if isinstance(link, list) and len(link) >= 4}

    def widgets(node: dict[str, Any]) -> list[Any]:
        values = node.get("widgets_values")
        return values if isinstance(values, list) else []

    def upstream(node: dict[str, Any], name: str) -> dict[str, Any]:
        for slot in node.get("inputs") or []:
            if isinstance(slot, dict) and slot.get("name") == name:
                return nodes.get(links.get(slot.get("link")), {})
        return {}

    samplers = [node for node in nodes.values() if node.get("type") in ("KSampler", "KSamplerAdvanced")]
    if not samplers:
        return None
    sampler = samplers[0]
    values = widgets(sampler)
    # KSampler: seed, control_after_generate, steps, cfg, sampler, scheduler; KSamplerAdvanced adds add_noise first.
    offset = 1 if sampler.get("type") == "KSamplerAdvanced" else 0
    seed, _, steps, cfg, sampler_name, scheduler = (values[offset : offset + 6] + [None] * 6)[:6]
    prompt = (widgets(upstream(sampler, "positive")) or [""])[0]
    negative = (widgets(upstream(sampler, "negative")) or [""])[0]
    latent = [*widgets(upstream(sampler, "latent_image")), None, None]
    loose = {
        "prompt": prompt,
        "negative_prompt": negative,
        "seed": seed,
        "steps": steps,
        "guidance_scale": cfg,
        "sampler": f"{sampler_name} karras" if scheduler == "karras" else sampler_name,
        "width": latent[0],
        "height": latent[1],
    }
    labels = ("Prompt", "Negative prompt", "Seed", "Steps", "CFG scale", "Sampler", "Scheduler")
    fields = _labelled(dict(zip(labels, (prompt, negative, seed, steps, cfg, sampler_name, scheduler), strict=True)))
    return Reading("comfyui", loose, fields)


# InvokeAI -----------------------------------------------------------------------------------------

_INVOKE_KEYS = {
    "positive_prompt": ("prompt", "Prompt"),
    "negative_prompt": ("negative_prompt", "Negative prompt"),
    "seed": ("seed", "Seed"),
    "steps": ("steps", "Steps"),
    "cfg_scale": ("guidance_scale", "CFG scale"),
    "scheduler": ("sampler", "Scheduler"),
    "width": ("width", "Width"),
    "height": ("height", "Height"),
}


def invokeai(chunks: dict[str, str]) -> Reading | None:
    """InvokeAI 3+: the `invokeai_metadata` JSON object."""
    data = json_object(chunks.get("invokeai_metadata"))
    if data is None:
        return None
    loose = {ours: data.get(theirs) for theirs, (ours, _) in _INVOKE_KEYS.items()}
    fields = _labelled({label: data.get(theirs) for theirs, (_, label) in _INVOKE_KEYS.items()})
    model = data.get("model")
    if isinstance(model, dict):
        model = model.get("name") or model.get("model_name")
    if model:
        fields["Model"] = text(model, 500)
    return Reading("invokeai", loose, fields, _rest(data, {*_INVOKE_KEYS, "model"}))


# Fooocus ------------------------------------------------------------------------------------------

_FOOOCUS_KEYS = {
    "prompt": ("prompt", "Prompt"),
    "negative_prompt": ("negative_prompt", "Negative prompt"),
    "seed": ("seed", "Seed"),
    "steps": ("steps", "Steps"),
    "guidance_scale": ("guidance_scale", "Guidance scale"),
    "sampler": ("sampler", "Sampler"),
}


def fooocus(chunks: dict[str, str]) -> Reading | None:
    """Fooocus: `parameters` as JSON (its own scheme) or A1111 text, named by `fooocus_scheme`."""
    scheme = chunks.get("fooocus_scheme", "").strip().lower()
    raw = chunks.get("parameters", "")
    data = json_object(raw)
    if data is not None and (scheme == "fooocus" or "fooocus" in str(data.get("version", "")).lower()):
        loose = {ours: data.get(theirs) for theirs, (ours, _) in _FOOOCUS_KEYS.items()}
        if str(data.get("scheduler", "")).lower() == "karras":
            loose["sampler"] = f"{loose['sampler']} karras"
        size = _size(data.get("resolution"))
        if size:
            loose["width"], loose["height"] = size
        fields = _labelled({label: data.get(theirs) for theirs, (_, label) in _FOOOCUS_KEYS.items()})
        fields |= _labelled(
            {"Scheduler": data.get("scheduler"), "Resolution": data.get("resolution"), "Model": data.get("base_model")}
        )
        used = {*_FOOOCUS_KEYS, "scheduler", "resolution", "base_model"}
        return Reading("fooocus", loose, fields, _rest(data, used))
    if data is None and raw:
        prompt, negative, params = a1111.parse_parameters(raw)
        if scheme == "a1111" or params.get("Version", "").lower().startswith("fooocus"):
            reading = a1111_reading(prompt, negative, params)
            reading.source = "fooocus"
            return reading
    return None


def a1111_reading(prompt: str, negative: str, params: dict[str, str]) -> Reading:
    """A Reading from parsed A1111 text; keys A1111 readers do not know are kept as unknown."""
    fields = _labelled({"Prompt": prompt, "Negative prompt": negative}) | {
        key: value for key, value in params.items() if key in a1111.KNOWN_KEYS
    }
    unknown = {key: value for key, value in params.items() if key not in a1111.KNOWN_KEYS}
    return Reading("a1111", a1111.loose_fields(prompt, negative, params), fields, unknown)


# Draw Things --------------------------------------------------------------------------------------

_DRAW_THINGS_KEYS = {
    "c": ("prompt", "Prompt"),
    "uc": ("negative_prompt", "Negative prompt"),
    "seed": ("seed", "Seed"),
    "steps": ("steps", "Steps"),
    "scale": ("guidance_scale", "Guidance scale"),
    "sampler": ("sampler", "Sampler"),
}


def _between(text_: str, opening: str, closing: str) -> str | None:
    """The text after the first `opening` tag (attributes allowed) up to `closing`; str.find keeps it linear."""
    start = text_.find(opening)
    if start < 0:
        return None
    body = text_.find(">", start)
    end = text_.find(closing, body) if body >= 0 else -1
    return text_[body + 1 : end] if end >= 0 else None


def _xmp_value(xmp: str, name: str) -> str | None:
    """The text of an XMP property, element (with rdf:Alt/li) or attribute form; entities unescaped."""
    inner = _between(xmp, f"<{name}", f"</{name}>")
    if inner is not None:
        item = _between(inner, "<rdf:li", "</rdf:li>")
        return html.unescape(item if item is not None else inner)
    for quote in "\"'":
        start = xmp.find(f"{name}={quote}")
        if start >= 0:
            start += len(name) + 2
            end = xmp.find(quote, start)
            return html.unescape(xmp[start:end]) if end >= 0 else None
    return None


def draw_things(chunks: dict[str, str]) -> Reading | None:
    """Draw Things: JSON in XMP exif:UserComment (`c` prompt, `uc` negative, `scale`, `size`...)."""
    xmp = chunks.get("XML:com.adobe.xmp") or chunks.get("xmp") or ""
    comment = _xmp_value(xmp, "exif:UserComment") if xmp else None
    data = json_object(comment) if comment else None
    if data is None:
        data = json_object(chunks.get("parameters"))  # a JPEG's EXIF UserComment lands here
    if data is None or "c" not in data:
        return None
    loose = {ours: data.get(theirs) for theirs, (ours, _) in _DRAW_THINGS_KEYS.items()}
    size = _size(data.get("size"))
    if size:
        loose["width"], loose["height"] = size
    fields = _labelled({label: data.get(theirs) for theirs, (_, label) in _DRAW_THINGS_KEYS.items()})
    fields |= _labelled({"Size": data.get("size"), "Model": data.get("model")})
    unknown = _rest(data, {*_DRAW_THINGS_KEYS, "size", "model"})
    description = _xmp_value(xmp, "dc:description") if xmp else None
    if description:
        unknown["Description"] = text(description)
    return Reading("drawthings", loose, fields, unknown)


READERS: tuple[Callable[[dict[str, str]], Reading | None], ...] = (invokeai, comfyui, fooocus, draw_things)
