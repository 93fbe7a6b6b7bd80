"""The models the benchmarks run: PixArt-Σ XL, the SDXL VAE and T5-XXL (random weights), and a small pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from diffusers import AutoencoderKL, PixArtTransformer2DModel
from transformers import T5Config, T5EncoderModel

from app.core.model_info import ModelInfo, ModelSource
from app.core.resources import demo_model_dir
from app.model.loading import PixArtComponents
from benchmarks.harness import Context

# The transformer config of PixArt-alpha/PixArt-Sigma-XL-2-1024-MS (diffusers layout).
SIGMA_XL_CONFIG: dict[str, Any] = {
    "activation_fn": "gelu-approximate",
    "attention_bias": True,
    "attention_head_dim": 72,
    "caption_channels": 4096,
    "cross_attention_dim": 1152,
    "in_channels": 4,
    "interpolation_scale": 2,
    "norm_elementwise_affine": False,
    "norm_eps": 1e-6,
    "norm_num_groups": 32,
    "norm_type": "ada_norm_single",
    "num_attention_heads": 16,
    "num_embeds_ada_norm": 1000,
    "num_layers": 28,
    "out_channels": 8,
    "patch_size": 2,
    "sample_size": 128,
    "upcast_attention": False,
    "use_additional_conditions": False,
}
SIGMA_XL_PARAMETERS = 610_856_096
# A stand-in of the same layout, for smoke runs of the harness.
TINY_DIT_OVERRIDES: dict[str, Any] = {
    "attention_head_dim": 8,
    "num_attention_heads": 2,
    "cross_attention_dim": 16,
    "caption_channels": 32,
    "num_layers": 4,
    "sample_size": 16,
}

# The VAE of SDXL, which PixArt-Σ uses (madebyollin/sdxl-vae layout).
SDXL_VAE_CONFIG: dict[str, Any] = {
    "act_fn": "silu",
    "block_out_channels": (128, 256, 512, 512),
    "down_block_types": ("DownEncoderBlock2D",) * 4,
    "up_block_types": ("UpDecoderBlock2D",) * 4,
    "in_channels": 3,
    "out_channels": 3,
    "latent_channels": 4,
    "layers_per_block": 2,
    "norm_num_groups": 32,
    "sample_size": 1024,
    "scaling_factor": 0.13025,
}
TINY_VAE_OVERRIDES: dict[str, Any] = {"block_out_channels": (8, 8, 16, 16), "norm_num_groups": 4, "layers_per_block": 1}

# The text encoder PixArt-Σ ships: T5 v1.1 XXL's encoder, 4.7 B parameters.
T5_XXL_CONFIG: dict[str, Any] = {
    "vocab_size": 32128,
    "d_model": 4096,
    "d_kv": 64,
    "d_ff": 10240,
    "num_layers": 24,
    "num_heads": 64,
    "relative_attention_num_buckets": 32,
    "relative_attention_max_distance": 128,
    "feed_forward_proj": "gated-gelu",
    "dropout_rate": 0.0,
    "is_encoder_decoder": False,
    "use_cache": False,
    "tie_word_embeddings": False,
}
XL_NATIVE_RESOLUTION = 1024


def dit_config(smoke: bool = False, **overrides: Any) -> dict[str, Any]:
    """PixArt-Σ XL's config (a tiny stand-in when smoke-testing), with `overrides` applied."""
    return {**SIGMA_XL_CONFIG, **(TINY_DIT_OVERRIDES if smoke else {}), **overrides}


def check_sigma_parameters() -> int:
    """Build PixArt-Σ XL without memory and prove it is the released architecture by its parameter count."""
    with torch.device("meta"):
        model = PixArtTransformer2DModel(**SIGMA_XL_CONFIG)
    count = sum(p.numel() for p in model.parameters())
    if count != SIGMA_XL_PARAMETERS:
        raise AssertionError(f"PixArt-Σ XL should have {SIGMA_XL_PARAMETERS:,} parameters, this one has {count:,}")
    return count


def random_transformer(config: dict[str, Any], device: torch.device, dtype: torch.dtype) -> PixArtTransformer2DModel:
    """A PixArt transformer with diffusers' random init, made directly on `device` (no host copy of a GPU model)."""
    torch.manual_seed(0)
    with torch.device(device):
        model = PixArtTransformer2DModel(**config)
    if dtype != torch.float32:  # diffusers warns on every cast, so cast only when needed
        model = model.to(dtype=dtype)
    return model.eval().requires_grad_(False)


def random_vae(device: torch.device, dtype: torch.dtype, smoke: bool = False) -> AutoencoderKL:
    """The SDXL VAE architecture (a tiny stand-in when smoke-testing) with random weights."""
    torch.manual_seed(0)
    config = {**SDXL_VAE_CONFIG, **(TINY_VAE_OVERRIDES if smoke else {})}
    with torch.device(device):
        vae = AutoencoderKL(**config)
    return vae.to(dtype=dtype).eval().requires_grad_(False)


def pipeline_folder(work: Path) -> tuple[Path, str]:
    """The demo model's folder when it is built, else a random pipeline of the demo's sizes made in `work`."""
    demo = demo_model_dir()
    if (demo / "model_index.json").is_file():
        return demo, "demo model"
    folder = work / "random-pipeline"
    if not (folder / "model_index.json").is_file():
        _save_random_pipeline(folder, work / "random-tokenizer")
    return folder, "random demo-sized pipeline"


def _save_random_pipeline(folder: Path, tokenizer_folder: Path) -> None:
    """Write an untrained pipeline with the demo model's architecture, through the demo's own exporter."""
    from demo_training.architecture import NATIVE_RESOLUTION, build_transformer, build_vae
    from demo_training.export import save_demo_pipeline
    from demo_training.text_model import build_text_encoder, build_tokenizer
    from demo_training.trainer import PIXART_GUIDANCE

    tokenizer = build_tokenizer(tokenizer_folder)
    encoder = build_text_encoder(len(tokenizer))
    transformer = build_transformer(NATIVE_RESOLUTION)
    with torch.no_grad():  # diffusers zero-initialises the output: give the images some content
        transformer.proj_out.weight.normal_(0, 0.5)
    spiece = tokenizer_folder / "spiece.model"
    save_demo_pipeline(folder, tokenizer, encoder, build_vae(), transformer, NATIVE_RESOLUTION, spiece, PIXART_GUIDANCE)


def xl_components(ctx: Context) -> PixArtComponents:
    """PixArt-Σ XL, the SDXL VAE and T5-XXL with random weights on the GPU in the sampling precision, built once a run.

    The tokenizer is the demo's: token ids are all that matter to speed and memory.
    """
    if "xl_components" in ctx.cache:
        return ctx.cache["xl_components"]
    from demo_training.architecture import sampling_scheduler
    from demo_training.text_model import build_tokenizer

    folder = ctx.work / "xl-random"
    folder.mkdir(exist_ok=True)
    dtype = ctx.half_dtype
    torch.manual_seed(0)
    with torch.device(ctx.device):
        encoder = T5EncoderModel(T5Config(**T5_XXL_CONFIG))
    encoder = encoder.to(dtype).eval().requires_grad_(False)
    if ctx.is_cuda:
        torch.cuda.empty_cache()  # the float32 copy made at construction is gone
    info = ModelInfo(
        name="PixArt-Σ XL (random weights)",
        path=folder,
        native_resolution=XL_NATIVE_RESOLUTION,
        is_demo=False,
        has_trained_kv_weights=False,
        kv_config=None,
        size_bytes=0,
        num_layers=SIGMA_XL_CONFIG["num_layers"],
        source=ModelSource.FOLDER,
    )
    components = PixArtComponents(
        tokenizer=build_tokenizer(folder / "tokenizer"),
        text_encoder=encoder,
        vae=random_vae(ctx.device, dtype),
        transformer=random_transformer(dit_config(), ctx.device, dtype),
        scheduler=sampling_scheduler(),
        info=info,
    )
    ctx.cache["xl_components"] = components
    return components
