"""Tiny random PixArt-Σ components saved in diffusers' own pipeline layout, shared by the engine tests."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from diffusers import AutoencoderKL, DPMSolverMultistepScheduler, PixArtSigmaPipeline, PixArtTransformer2DModel
from transformers import T5Config, T5EncoderModel, T5Tokenizer

from app.core.engine_options import EngineOptions, Precision
from tests.spiece import train_spiece_model

NATIVE = 256  # sample_size 32 × VAE factor 8: diffusers' ASPECT_RATIO_256_BIN applies, so its binning can be compared
_SENTENCES = [
    "a red circle in the top left corner on a white background",
    "a large blue square in the middle of a dark room",
    "a small green triangle at the bottom right",
    "a poster of a city street at night with neon lights",
    "a watercolor painting of mountains and a lake at sunrise",
    "a photo of a cat sleeping on a wooden table",
    "an ultra wide wallpaper of the ocean under a golden sky",
    "a portrait of an old man with a grey beard, cinematic lighting",
    "a yellow star and a purple moon over a quiet forest",
    "a detailed drawing of a castle on a hill in winter",
    "bright colors, soft shadows, high quality, 4k, masterpiece",
    "a robot holding a flower in a garden full of butterflies",
    "the quick brown fox jumps over the lazy dog",
    "an orange car parked beside a stone bridge in the rain",
    "a minimal logo with a circle, a line and a dot",
    "sunset over the sea with pink clouds and a small boat",
    "a bowl of fruit: apples, pears and grapes on a table",
    "a dragon flying above snowy peaks under a full moon",
    "a cozy room with a window, a lamp and many books",
    "black and white photograph of a busy train station",
    "a field of sunflowers and a blue sky with white clouds",
    "an abstract pattern of squares, triangles and circles",
    "a lighthouse on a rocky coast during a storm",
    "a child flying a kite on a windy beach",
    "a glass of water on a marble counter, studio photo",
    "a forest path covered in autumn leaves",
    "a futuristic city with tall towers and flying cars",
    "a bird sitting on a branch in spring",
    "a cup of coffee and a croissant on a cafe table",
    "a snowy village with warm lights in every window",
]


def _tokenizer(folder: Path) -> T5Tokenizer:
    """A byte-fallback sentencepiece unigram model wrapped as transformers' T5 tokenizer (no download)."""
    folder.mkdir(parents=True, exist_ok=True)
    spiece = train_spiece_model(_SENTENCES)
    (folder / "spiece.model").write_bytes(spiece)
    return T5Tokenizer.from_pretrained(folder, extra_ids=0, model_max_length=300)


def tiny_components(work: Path, scaling_factor: float = 0.13025) -> dict:
    """Random tokenizer, T5 encoder, VAE, transformer and scheduler, small enough to sample in milliseconds."""
    torch.manual_seed(0)
    tokenizer = _tokenizer(work / "spm")
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=len(tokenizer),
            d_model=32,
            d_kv=8,
            d_ff=64,
            num_layers=1,
            num_heads=4,
            relative_attention_num_buckets=8,
            decoder_start_token_id=0,
        )
    ).eval()
    vae = AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * 4,
        up_block_types=("UpDecoderBlock2D",) * 4,
        block_out_channels=(4, 4, 8, 8),
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=4,
        sample_size=NATIVE,
        scaling_factor=scaling_factor,
    ).eval()
    transformer = PixArtTransformer2DModel(
        sample_size=NATIVE // 8,
        num_layers=4,
        patch_size=2,
        attention_head_dim=8,
        num_attention_heads=2,
        caption_channels=32,
        in_channels=4,
        cross_attention_dim=16,
        out_channels=8,
        attention_bias=True,
        activation_fn="gelu-approximate",
        num_embeds_ada_norm=1000,
        norm_type="ada_norm_single",
        norm_elementwise_affine=False,
        norm_eps=1e-6,
    ).eval()
    # Random init leaves the output projection near zero; scale it so images depend visibly on the inputs.
    with torch.no_grad():
        transformer.proj_out.weight.normal_(0, 0.5)
    scheduler = DPMSolverMultistepScheduler()
    return {
        "tokenizer": tokenizer,
        "text_encoder": text_encoder,
        "vae": vae,
        "transformer": transformer,
        "scheduler": scheduler,
    }


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Run each engine test on one torch thread: tiny tensors gain nothing from threads, and on a busy 2-core
    machine intra-op threads spin against each other (measured: the bins test 15 s on two threads, 1.7 s on one)."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole tiny PixArtSigmaPipeline saved with save_pretrained, in diffusers' folder layout."""
    work = tmp_path_factory.mktemp("tiny-pixart")
    folder = work / "pipeline"
    PixArtSigmaPipeline(**tiny_components(work)).save_pretrained(folder, safe_serialization=True)
    return folder


@pytest.fixture(scope="session")
def diffusers_pipeline(tiny_model_dir: Path) -> PixArtSigmaPipeline:
    """diffusers' own PixArt-Σ pipeline reloaded from the tiny folder: the reference."""
    return PixArtSigmaPipeline.from_pretrained(tiny_model_dir, local_files_only=True).to("cpu")


@pytest.fixture(scope="session")
def engine(tiny_model_dir: Path):
    """The engine's pipeline on the tiny folder, fp32 on the CPU, previews every 2 steps."""
    from app.engine.pipeline import Pipeline

    pipeline = Pipeline.load(tiny_model_dir, options=EngineOptions(precision=Precision.FP32, preview_every=2))
    yield pipeline
    pipeline.close()
