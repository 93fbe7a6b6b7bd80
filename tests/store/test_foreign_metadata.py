"""Reading settings from images made by other tools; samples follow each format's published layout."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from PIL.PngImagePlugin import PngInfo

from app.store.metadata import read_image_metadata

A1111_TEXT = (
    "masterpiece, a cat in a wizard hat\n"
    "Negative prompt: lowres, bad anatomy\n"
    "Steps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 7, Seed: 3141592653, Size: 512x768, "
    "Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.4, Hires upscale: 2, "
    'Lora hashes: "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef", Version: v1.10.1'
)


def _png(path: Path, chunks: dict[str, str], size: tuple[int, int] = (64, 64)) -> Path:
    info = PngInfo()
    for key, value in chunks.items():
        info.add_text(key, value)
    Image.new("RGB", size, "gray").save(path, pnginfo=info)
    return path


def test_a1111_png(tmp_path: Path) -> None:
    """A1111 text gives prompt, negative, numbers and Karras sampler; extras are kept as unknown."""
    settings = read_image_metadata(_png(tmp_path / "a.png", {"parameters": A1111_TEXT}))
    request = settings.request
    assert settings.source == "a1111"
    assert request is not None
    assert (request.prompt, request.negative_prompt) == ("masterpiece, a cat in a wizard hat", "lowres, bad anatomy")
    assert (request.steps, request.guidance_scale, request.seed) == (28, 7.0, 3141592653)
    assert (request.width, request.height, request.scheduler.value) == (512, 768, "dpm-solver++-karras")
    assert settings.fields["Model"] == "v1-5-pruned-emaonly"
    assert settings.unknown["Lora hashes"] == "add_detail: 7c6bad76eb54, more_details: 3b8aa1d351ef"
    assert settings.unknown["Hires upscale"] == "2"
    assert settings.notes == ()


def test_a1111_jpeg_user_comment(tmp_path: Path) -> None:
    """A1111 JPEGs keep the text in EXIF UserComment with the UNICODE prefix (UTF-16)."""
    exif = Image.Exif()
    exif.get_ifd(ExifTags.IFD.Exif)[0x9286] = b"UNICODE\0" + A1111_TEXT.encode("utf-16-be")
    Image.new("RGB", (64, 64)).save(tmp_path / "a.jpg", exif=exif.tobytes())
    settings = read_image_metadata(tmp_path / "a.jpg")
    assert settings.source == "a1111"
    assert settings.request is not None and settings.request.seed == 3141592653


COMFY_PROMPT = {
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": ["12", 0],
            "steps": 20,
            "cfg": 8,
            "sampler_name": "dpmpp_2m",
            "scheduler": "karras",
            "denoise": 1,
            "model": ["10", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "4": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "v1-5-pruned-emaonly.safetensors"}},
    "5": {"class_type": "EmptyLatentImage", "inputs": {"width": 512, "height": 640, "batch_size": 1}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "purple galaxy in a glass bottle", "clip": ["10", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "text, watermark", "clip": ["10", 1]}},
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
    "10": {"class_type": "LoraLoader", "inputs": {"model": ["4", 0], "clip": ["4", 1], "lora_name": "x.safetensors"}},
    "12": {"class_type": "PrimitiveNode", "inputs": {"value": 156680208700286}},
}
COMFY_WORKFLOW = {
    "nodes": [
        {
            "id": 3,
            "type": "KSampler",
            "inputs": [
                {"name": "positive", "link": 4},
                {"name": "negative", "link": 6},
                {"name": "latent_image", "link": 2},
            ],
            "widgets_values": [42, "fixed", 25, 6.5, "euler", "normal", 1],
        },
        {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a lighthouse in fog"]},
        {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["boats"]},
        {"id": 5, "type": "EmptyLatentImage", "widgets_values": [768, 512, 1]},
    ],
    "links": [[2, 5, 0, 3, 3, "LATENT"], [4, 6, 0, 3, 1, "CONDITIONING"], [6, 7, 0, 3, 2, "CONDITIONING"]],
}


def test_comfyui_prompt_graph(tmp_path: Path) -> None:
    """The API graph is followed from the KSampler through links (LoRA, primitive seed) to every value."""
    chunks = {"prompt": json.dumps(COMFY_PROMPT), "workflow": json.dumps(COMFY_WORKFLOW)}
    settings = read_image_metadata(_png(tmp_path / "c.png", chunks))
    request = settings.request
    assert settings.source == "comfyui"
    assert request is not None
    assert (request.prompt, request.negative_prompt) == ("purple galaxy in a glass bottle", "text, watermark")
    assert (request.seed, request.steps, request.guidance_scale) == (156680208700286, 20, 8.0)
    assert (request.width, request.height, request.scheduler.value) == (512, 640, "dpm-solver++-karras")
    assert settings.fields["Model"] == "v1-5-pruned-emaonly.safetensors"
    assert json.loads(settings.unknown["workflow"]) == COMFY_WORKFLOW


def test_comfyui_workflow_only(tmp_path: Path) -> None:
    """Without an API graph, the UI workflow's widget values are read."""
    settings = read_image_metadata(_png(tmp_path / "c.png", {"workflow": json.dumps(COMFY_WORKFLOW)}))
    request = settings.request
    assert settings.source == "comfyui"
    assert request is not None
    assert (request.prompt, request.negative_prompt, request.seed) == ("a lighthouse in fog", "boats", 42)
    assert (request.steps, request.guidance_scale, request.width, request.height) == (25, 6.5, 768, 512)


def test_invokeai_metadata(tmp_path: Path) -> None:
    """invokeai_metadata fields map to a request; the model dict's name is shown; the rest is kept."""
    meta = {
        "generation_mode": "sdxl_txt2img",
        "positive_prompt": "a tabby cat on a windowsill",
        "negative_prompt": "dog",
        "width": 1024,
        "height": 768,
        "seed": 123456,
        "rand_device": "cpu",
        "cfg_scale": 6.5,
        "steps": 30,
        "scheduler": "dpmpp_2m_k",
        "model": {"key": "k1", "hash": "blake3:00ff", "name": "Juggernaut XL v9", "base": "sdxl", "type": "main"},
        "app_version": "4.2.4",
    }
    settings = read_image_metadata(_png(tmp_path / "i.png", {"invokeai_metadata": json.dumps(meta)}))
    request = settings.request
    assert settings.source == "invokeai"
    assert request is not None
    assert (request.prompt, request.negative_prompt, request.seed) == ("a tabby cat on a windowsill", "dog", 123456)
    assert (request.width, request.height, request.steps, request.guidance_scale) == (1024, 768, 30, 6.5)
    assert request.scheduler.value == "dpm-solver++-karras"
    assert settings.fields["Model"] == "Juggernaut XL v9"
    assert settings.unknown["app_version"] == "4.2.4"


FOOOCUS_JSON = {
    "adm_guidance": "(1.5, 0.8, 0.3)",
    "base_model": "juggernautXL_v8Rundiffusion",
    "full_prompt": ["a castle on a hill", "cinematic, highly detailed"],
    "guidance_scale": 4,
    "negative_prompt": "",
    "performance": "Speed",
    "prompt": "a castle on a hill",
    "resolution": "(1152, 896)",
    "sampler": "dpmpp_2m_sde_gpu",
    "scheduler": "karras",
    "seed": "8316931384307547962",
    "sharpness": 2,
    "steps": 30,
    "styles": "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']",
    "version": "Fooocus v2.5.5",
}


def test_fooocus_json_scheme(tmp_path: Path) -> None:
    """Fooocus's own scheme: JSON parameters; resolution text parsed (never evaluated); sampler noted."""
    chunks = {"parameters": json.dumps(FOOOCUS_JSON), "fooocus_scheme": "fooocus"}
    settings = read_image_metadata(_png(tmp_path / "f.png", chunks))
    request = settings.request
    assert settings.source == "fooocus"
    assert request is not None
    assert (request.prompt, request.seed, request.steps, request.guidance_scale) == (
        "a castle on a hill",
        8316931384307547962,
        30,
        4.0,
    )
    assert (request.width, request.height, request.scheduler.value) == (1152, 896, "dpm-solver++-karras")
    assert any("dpmpp_2m_sde_gpu" in note for note in settings.notes)
    assert settings.unknown["styles"] == "['Fooocus V2', 'Fooocus Enhance', 'Fooocus Sharp']"


def test_fooocus_a1111_scheme(tmp_path: Path) -> None:
    """Fooocus in A1111 scheme is A1111 text marked by fooocus_scheme and its Version."""
    text = (
        "a castle on a hill\nNegative prompt: blurry\nSteps: 30, Sampler: DPM++ 2M SDE Karras, Seed: 99, "
        "Size: 1152x896, CFG scale: 4, Sharpness: 2, Model: juggernautXL_v8Rundiffusion, Version: Fooocus v2.5.5"
    )
    settings = read_image_metadata(_png(tmp_path / "f.png", {"parameters": text, "fooocus_scheme": "a1111"}))
    assert settings.source == "fooocus"
    assert settings.request is not None
    assert (settings.request.negative_prompt, settings.request.seed, settings.request.width) == ("blurry", 99, 1152)
    assert settings.unknown["Sharpness"] == "2"


def _draw_things_xmp() -> str:
    data = {
        "c": "a fox & a hound",
        "uc": "dogs",
        "seed": 2411346017,
        "steps": 20,
        "scale": 5,
        "size": "768x640",
        "sampler": "DPM++ 2M Karras",
        "model": "sd_xl_base_1.0_f16.ckpt",
        "strength": 1,
        "seed_mode": "Scale Alike",
        "v2": {"aestheticScore": 6},
    }
    return (
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        '<dc:description><rdf:Alt><rdf:li xml:lang="x-default">a fox &amp; a hound\n-dogs\nSteps: 20'
        "</rdf:li></rdf:Alt></dc:description>"
        f'<exif:UserComment><rdf:Alt><rdf:li xml:lang="x-default">{html.escape(json.dumps(data), quote=False)}'
        "</rdf:li></rdf:Alt></exif:UserComment><xmp:CreatorTool>Draw Things</xmp:CreatorTool>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
    )


@pytest.mark.parametrize("fmt", ["png", "jpeg"])
def test_draw_things_xmp(tmp_path: Path, fmt: str) -> None:
    """Draw Things' JSON in XMP exif:UserComment (c, uc, scale, size) is read from PNG iTXt and JPEG XMP."""
    path = tmp_path / f"d.{fmt}"
    if fmt == "png":
        info = PngInfo()
        info.add_itxt("XML:com.adobe.xmp", _draw_things_xmp())
        Image.new("RGB", (64, 64)).save(path, pnginfo=info)
    else:
        Image.new("RGB", (64, 64)).save(path, xmp=_draw_things_xmp().encode())
    settings = read_image_metadata(path)
    request = settings.request
    assert settings.source == "drawthings"
    assert request is not None
    assert (request.prompt, request.negative_prompt, request.seed) == ("a fox & a hound", "dogs", 2411346017)
    assert (request.steps, request.guidance_scale, request.width, request.height) == (20, 5.0, 768, 640)
    assert request.scheduler.value == "dpm-solver++-karras"
    assert settings.unknown["seed_mode"] == "Scale Alike"
    assert json.loads(settings.unknown["v2"]) == {"aestheticScore": 6}


def test_image_without_settings_keeps_its_text(tmp_path: Path) -> None:
    """An image with only unrelated text chunks is 'unknown', with no request, and its text is shown."""
    settings = read_image_metadata(_png(tmp_path / "u.png", {"Software": "GIMP 2.10", "Comment": "holiday"}))
    assert (settings.source, settings.request) == ("unknown", None)
    assert settings.unknown == {"Software": "GIMP 2.10", "Comment": "holiday"}
