"""Size factories for the demo model's VAE, transformer and schedulers (the PixArt-Σ family, in miniature)."""

from __future__ import annotations

import torch
from diffusers import AutoencoderKL, DDPMScheduler, DPMSolverMultistepScheduler, PixArtTransformer2DModel

VAE_SCALE = 8  # pixels per latent cell, as every PixArt VAE
PATCH_SIZE = 2
NATIVE_RESOLUTION = 128
LOW_RESOLUTION = 64
TEXT_DIM = 64  # T5 d_model of the demo text encoder
# The training noise schedule of PixArt (linear betas, 1000 steps, epsilon prediction).
NOISE_SCHEDULE = {
    "num_train_timesteps": 1000,
    "beta_start": 0.0001,
    "beta_end": 0.02,
    "beta_schedule": "linear",
    "prediction_type": "epsilon",
}


def build_vae(widths: tuple[int, ...] = (16, 32, 32, 32), seed: int = 0) -> AutoencoderKL:
    """A tiny AutoencoderKL with 4 latent channels and 8× downsampling (three downsampling blocks)."""
    torch.manual_seed(seed)
    return AutoencoderKL(
        in_channels=3,
        out_channels=3,
        down_block_types=("DownEncoderBlock2D",) * len(widths),
        up_block_types=("UpDecoderBlock2D",) * len(widths),
        block_out_channels=widths,
        layers_per_block=1,
        latent_channels=4,
        norm_num_groups=8,
        sample_size=NATIVE_RESOLUTION,
        mid_block_add_attention=False,  # flat shapes need no global attention; saves time at every decode
    )


def build_transformer(resolution: int, width: int = 128, layers: int = 6, seed: int = 0) -> PixArtTransformer2DModel:
    """A small PixArt transformer for `resolution`-pixel images; position grids scale as PixArt's 256→512→1024."""
    torch.manual_seed(seed)
    heads = width // 32
    model = PixArtTransformer2DModel(
        num_attention_heads=heads,
        attention_head_dim=32,
        in_channels=4,
        out_channels=8,  # epsilon and learned sigma, as PixArt-Σ
        num_layers=layers,
        cross_attention_dim=width,
        sample_size=resolution // VAE_SCALE,
        patch_size=PATCH_SIZE,
        norm_type="ada_norm_single",
        norm_elementwise_affine=False,
        norm_eps=1e-6,
        caption_channels=TEXT_DIM,
        use_additional_conditions=False,
        # PixArt uses 0.5 at 256 px, 1 at 512 and 2 at 1024: positions keep their range across resolutions.
        interpolation_scale=resolution / NATIVE_RESOLUTION,
    )
    initialize_like_pixart(model)
    return model


@torch.no_grad()
def initialize_like_pixart(model: PixArtTransformer2DModel) -> None:
    """PixArt's `initialize_weights` (diffusers keeps PyTorch's defaults, which suit loading, not training).

    Xavier linears, N(0, 0.02) timestep and caption MLPs, and zeroed cross-attention outputs and final layer: every
    block starts as its self-attention path alone, so the text pathway grows from zero instead of adding noise.
    Measured on stage 1 (2 000 steps, 54 validation images): position 98 % vs 37 % with the defaults, color 56 %
    vs 39 %.
    """
    for module in model.modules():
        if isinstance(module, torch.nn.Linear):
            torch.nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                torch.nn.init.zeros_(module.bias)
    patch = model.pos_embed.proj.weight  # a conv, initialised like the linear layer it is
    torch.nn.init.xavier_uniform_(patch.view(patch.shape[0], -1))
    timestep = model.adaln_single.emb.timestep_embedder
    for linear in (timestep.linear_1, timestep.linear_2, model.adaln_single.linear):
        torch.nn.init.normal_(linear.weight, std=0.02)
    for linear in (model.caption_projection.linear_1, model.caption_projection.linear_2):
        torch.nn.init.normal_(linear.weight, std=0.02)
    for block in model.transformer_blocks:
        torch.nn.init.zeros_(block.attn2.to_out[0].weight)
        torch.nn.init.zeros_(block.attn2.to_out[0].bias)
    torch.nn.init.zeros_(model.proj_out.weight)
    torch.nn.init.zeros_(model.proj_out.bias)


def training_scheduler() -> DDPMScheduler:
    """The DDPM noise schedule the transformer is trained with."""
    return DDPMScheduler(**NOISE_SCHEDULE, variance_type="learned_range", clip_sample=False)


def sampling_scheduler() -> DPMSolverMultistepScheduler:
    """DPM-Solver++ configured as PixArt-Σ ships it."""
    return DPMSolverMultistepScheduler(
        **NOISE_SCHEDULE,
        algorithm_type="dpmsolver++",
        solver_order=2,
        solver_type="midpoint",
        lower_order_final=True,
        timestep_spacing="linspace",
        steps_offset=0,
        use_karras_sigmas=False,
        thresholding=False,
    )
