"""Train the demo's tiny AutoencoderKL on shapes-world scenes and normalise its latent channels."""

from __future__ import annotations

import random
from collections.abc import Callable

import torch
from diffusers import AutoencoderKL

from demo_training.data import draw_batch, first_drawing_seed, run_stream
from demo_training.shapes_world import BACKGROUNDS, Scene, all_scenes

KL_WEIGHT = 1e-6  # as small as latent-diffusion VAEs use: the latents stay close to deterministic
OBJECT_WEIGHT = 10.0  # the object covers a few percent of the pixels but carries all the meaning


def _weighted_batch(
    scenes: list[Scene], rng: random.Random, first_seed: int, batch: int, resolution: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """`batch` random scenes drawn with seeds from `first_seed` on, and a loss weight that favours the object.

    Returns pixels (B, 3, R, R) in [-1, 1] and weights (B, 1, R, R).
    """
    picked = [scenes[rng.randrange(len(scenes))] for _ in range(batch)]
    pixels = draw_batch(picked, resolution, resolution, [first_seed + i for i in range(batch)])
    background = torch.tensor([BACKGROUNDS[s.background] for s in picked]).view(-1, 3, 1, 1) / 127.5 - 1
    weight = 1 + OBJECT_WEIGHT * ((pixels - background).abs().amax(dim=1, keepdim=True) > 0.05)
    return pixels, weight


def _fit(
    params: list[torch.nn.Parameter],
    reconstruct: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor | float]],
    steps: int,
    batch: int,
    resolution: int,
    lr: float,
    stream: int,
    run: int,
    name: str,
    log: Callable[[str], None],
) -> float:
    """The loop both VAE trainings share: object-weighted L1+L2 on freshly drawn scenes, AdamW, cosine decay.

    `reconstruct(pixels)` returns the reconstruction and any extra loss term. Scenes are picked from stream `stream`
    of training run `run` and drawn from stream `-stream`. Returns the last batch's MSE.
    """
    rng = random.Random(run_stream(run, stream))
    first_seed = first_drawing_seed(run_stream(run, -stream))
    scenes = all_scenes()
    optimizer = torch.optim.AdamW(params, lr=lr, weight_decay=0.0)
    # Cosine decay: the last steps settle the exact colors, which DemoBench reads from the decoded pixels.
    decay = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1), eta_min=lr / 20)
    mse = float("nan")
    for step in range(steps):
        pixels, weight = _weighted_batch(scenes, rng, first_seed + step * batch, batch, resolution)
        recon, extra_loss = reconstruct(pixels)
        error = recon - pixels
        loss = (weight * (error.abs() + error.pow(2))).mean() + extra_loss
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        decay.step()
        mse = float(error.detach().pow(2).mean())
        if step % 100 == 0 or step == steps - 1:
            log(f"{name} step {step}/{steps} mse {mse:.5f}")
    return mse


def train_vae(
    vae: AutoencoderKL,
    steps: int,
    batch: int,
    resolution: int,
    log: Callable[[str], None],
    lr: float = 2e-3,
    run: int = 0,
) -> float:
    """Train in place on whole scenes drawn at `resolution` (the VAE is convolutional); returns the last MSE.

    `run` is the training run's seed (its scene picks and drawings)."""

    def reconstruct(pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        posterior = vae.encode(pixels).latent_dist
        return vae.decode(posterior.sample()).sample, KL_WEIGHT * posterior.kl().mean()

    vae.train()
    mse = _fit(list(vae.parameters()), reconstruct, steps, batch, resolution, lr, 1, run, "vae", log)
    vae.eval()
    return mse


def refine_decoder(
    vae: AutoencoderKL,
    steps: int,
    batch: int,
    resolution: int,
    log: Callable[[str], None],
    lr: float = 1e-3,
    run: int = 0,
) -> float:
    """Train only the decoder on the frozen encoder's posterior means, the latents the transformer learns.

    The latent space stays exactly the same, so the transformer's latents need not be encoded again. Run at the size
    the decoder is used at, it fixes the colors that the joint training at a lower resolution leaves off: on seed 1's
    VAE, 500 steps of four 128-px scenes read 100 % of validation colors right at 128 px against 91.7 % for 500 steps
    of sixteen 64-px scenes (the same pixels per step).
    """

    def reconstruct(pixels: torch.Tensor) -> tuple[torch.Tensor, float]:
        with torch.no_grad():
            latents = vae.encode(pixels).latent_dist.mean  # (B, 4, R/8, R/8)
        return vae.decode(latents).sample, 0.0

    params = [*vae.decoder.parameters(), *vae.post_quant_conv.parameters()]
    vae.requires_grad_(False)
    for param in params:
        param.requires_grad_(True)
    vae.decoder.train()
    mse = _fit(params, reconstruct, steps, batch, resolution, lr, 3, run, "decoder", log)
    vae.requires_grad_(False).eval()
    return mse


@torch.no_grad()
def normalize_latent_channels(
    vae: AutoencoderKL, resolution: int, count: int = 128
) -> tuple[torch.Tensor, torch.Tensor]:
    """Give every latent channel mean 0 and std 1 by folding an affine map into the VAE's 1×1 quant convs.

    A freshly trained VAE spreads its channels unevenly (the shipped one: stds 0.45, 1.74, 0.15, 0.85), so under one
    scalar scaling factor the diffusion noise drowns a quiet channel's content many steps before a loud one's.
    The map is exact: the encoder's posterior means become (z - mean) / std (its log-variances shift by -2 log std)
    and the decoder's first conv undoes it, so encode → decode is unchanged and `scaling_factor` becomes 1, which
    any diffusers pipeline reads as usual. Measured on the same scenes for every run seed; returns (mean, std) (4,).
    """
    rng = random.Random(2)
    scenes = all_scenes()
    picked = [scenes[rng.randrange(len(scenes))] for _ in range(count)]
    pixels = draw_batch(picked, resolution, resolution, [first_drawing_seed(-2) + i for i in range(count)])
    latents = vae.encode(pixels).latent_dist.mean
    mean, std = latents.mean(dim=(0, 2, 3)), latents.std(dim=(0, 2, 3))
    channels = len(mean)
    encode = vae.quant_conv  # 2C outputs: posterior means, then log-variances
    encode.weight[:channels] /= std.view(-1, 1, 1, 1)
    encode.bias[:channels] = (encode.bias[:channels] - mean) / std
    encode.bias[channels:] -= 2 * std.log()
    decode = vae.post_quant_conv  # z = std * z' + mean on its input
    decode.bias += decode.weight[:, :, 0, 0] @ mean
    decode.weight *= std.view(1, -1, 1, 1)
    vae.register_to_config(scaling_factor=1.0)
    return mean, std


@torch.no_grad()
def roundtrip_accuracy(vae: AutoencoderKL, items: list) -> float:
    """DemoBench all-correct accuracy of drawn scenes after encode→decode: the ceiling the VAE allows."""
    from demo_training.data import to_images
    from demo_training.demobench import accuracy

    images = []
    for item in items:
        pixels = draw_batch([item.scene], item.width, item.height, [item.seed])
        images += to_images(vae.decode(vae.encode(pixels).latent_dist.mean).sample)
    return accuracy(items, images)["all"]
