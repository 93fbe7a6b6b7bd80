"""A job's peak memory from the model's config numbers: the one estimate the window shows and the engine checks."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.engine_options import VaeTiling
from app.core.request import MAX_TEXT_TOKENS, KVCompressionMode
from app.core.sizes import GenerationPath, SizePlan

GIB = 1024**3
# Live tensors per transformer block relative to one hidden state: qkv (3), attention out (1), MLP (4), residuals (2)
# make ten by count; a whole 4K request with PixArt-Σ XL on an H200 peaked at twelve (docs/benchmarks.md), so we
# plan for twelve.
_BLOCK_ACTIVATION_FACTOR = 12
# Live full-resolution feature maps of the VAE decoder's last up block. Four by count (input, two convs, upsample
# output), but untiled SDXL-VAE decodes peaked at 7.5 on a CPU in float32 and at 9.5 on an H200 in bfloat16
# (docs/benchmarks.md; cuDNN's convolution workspaces take the rest), so we plan for a little more than each.
_VAE_ACTIVATION_FACTOR = {"cuda": 10}
_VAE_ACTIVATION_FACTOR_ELSEWHERE = 8
# Float32 values per pixel a tiled pass blends into: the weighted sum (3 channels), the weight sum (1) and the
# normalised result (3).
_BLEND_VALUES_PER_PIXEL = 7
# Fraction of the free memory a job may plan to use: estimates are rough and allocators fragment.
USABLE_FRACTION = 0.9
# Auto tiling starts above 2K square: below it an untiled decode fits every GPU that can sample the image.
AUTO_TILE_PIXELS = 2048 * 2048
TILE_LATENTS = 96  # 768 px tiles: large enough that GroupNorm statistics barely differ between tiles


@dataclass(frozen=True)
class ModelShape:
    """The config numbers that set a model's memory and speed: transformer width, depth and patches, VAE widths."""

    num_heads: int
    head_dim: int
    patch_size: int
    num_layers: int
    vae_channels: tuple[int, ...]  # the VAE's block_out_channels, full resolution first

    @property
    def hidden_size(self) -> int:
        """Width of one token's hidden state."""
        return self.num_heads * self.head_dim

    @property
    def vae_scale(self) -> int:
        """Pixels per latent cell."""
        return 2 ** (len(self.vae_channels) - 1)


@dataclass(frozen=True)
class MemoryProfile:
    """What a loaded model's job memory depends on besides the request: shape, device, precisions, compression."""

    shape: ModelShape
    device_type: str  # "cpu" | "cuda" | "mps"
    element_size: int  # bytes per value of the transformer's sampling precision
    vae_element_size: int
    kv_ratio: int  # the compression ratio a compressed pass uses
    has_trained_kv_weights: bool

    @property
    def speed_key(self) -> str:
        """Jobs with equal keys run at the same speed per token: same device, precision and architecture."""
        shape = self.shape
        return (
            f"{self.device_type}/{8 * self.element_size}bit/{shape.hidden_size}x{shape.num_layers}p{shape.patch_size}"
        )


@dataclass(frozen=True)
class MemoryEstimate:
    """A job's expected peak memory on its device, split by phase."""

    weights: int  # already resident on the device
    sampling: int  # transformer activations at the largest sampled size
    decode: int  # VAE decode (or encode, for refine) at the chosen tiling
    tiled_decode: bool

    @property
    def activations(self) -> int:
        """Bytes the job needs beyond the resident weights: phases run one after another."""
        return max(self.sampling, self.decode)

    @property
    def peak(self) -> int:
        """Weights plus the largest phase."""
        return self.weights + self.activations


def kv_compression_active(mode: KVCompressionMode, path: GenerationPath, has_trained_weights: bool) -> bool:
    """Whether a pass compresses keys and values: auto does when the model was trained with it or above native."""
    if mode is KVCompressionMode.OFF:
        return False
    if mode is KVCompressionMode.ON:
        return True
    return has_trained_weights or path in (GenerationPath.DIRECT, GenerationPath.REFINE)


def tiles_by_policy(height: int, width: int, tiling: VaeTiling) -> bool:
    """Whether the tiling setting alone tiles a decode of this size (auto may still tile later when short of memory)."""
    if tiling is not VaeTiling.AUTO:
        return tiling is VaeTiling.ON
    return height * width > AUTO_TILE_PIXELS


def transformer_activation_bytes(
    shape: ModelShape,
    latent_height: int,
    latent_width: int,
    batch: int,
    element_size: int,
    device_type: str,
    kv_ratio: int = 1,
) -> int:
    """Peak activation bytes of one transformer forward on `batch` latents (2 with guidance)."""
    tokens = (latent_height // shape.patch_size) * (latent_width // shape.patch_size)
    total = _BLOCK_ACTIVATION_FACTOR * batch * tokens * shape.hidden_size * element_size
    if device_type != "cuda":
        # Off CUDA the masked cross-attention takes the math path and materialises its scores.
        total += batch * shape.num_heads * tokens * MAX_TEXT_TOKENS * element_size
    if device_type == "mps":
        # MPS has no memory-efficient self-attention kernel: the full score matrix exists per head.
        total += batch * shape.num_heads * tokens * (tokens // (kv_ratio * kv_ratio)) * element_size
    return total


def vae_activation_bytes(
    vae_channels: tuple[int, ...], height: int, width: int, element_size: int, device_type: str
) -> int:
    """Peak activation bytes of decoding (or encoding) one `width`×`height` image in one piece."""
    factor = _VAE_ACTIVATION_FACTOR.get(device_type, _VAE_ACTIVATION_FACTOR_ELSEWHERE)
    total = factor * vae_channels[0] * height * width * element_size
    total += 3 * height * width * 4  # the float32 image the decode hands back
    if device_type == "mps":
        scale = 2 ** (len(vae_channels) - 1)
        latent_tokens = (height // scale) * (width // scale)
        total += latent_tokens * latent_tokens * element_size  # mid-block attention scores
    return total


def vae_tiled_activation_bytes(
    vae_channels: tuple[int, ...], height: int, width: int, tile_pixels: int, element_size: int, device_type: str
) -> int:
    """Peak activation bytes of a tiled decode (or encode): one tile's pass plus the float32 image it blends into."""
    tile = vae_activation_bytes(
        vae_channels, min(height, tile_pixels), min(width, tile_pixels), element_size, device_type
    )
    return tile + _BLEND_VALUES_PER_PIXEL * height * width * 4


def estimate_memory(
    profile: MemoryProfile,
    plan: SizePlan,
    guidance_scale: float,
    kv_compression: KVCompressionMode,
    tiling: VaeTiling,
    weights: int = 0,
) -> MemoryEstimate:
    """Expected memory of one image of a planned job, by phase (a batch's images run one after another)."""
    shape, device = profile.shape, profile.device_type
    batch = 2 if guidance_scale > 1.0 else 1  # classifier-free guidance runs the negative prompt beside it
    compressed = kv_compression_active(kv_compression, plan.path, profile.has_trained_kv_weights)
    ratio = profile.kv_ratio if compressed else 1
    scale = shape.vae_scale
    sampling = transformer_activation_bytes(
        shape, plan.height // scale, plan.width // scale, batch, profile.element_size, device, ratio
    )
    tiled = tiles_by_policy(plan.height, plan.width, tiling)
    if tiled:
        tile_pixels = TILE_LATENTS * scale
        decode = vae_tiled_activation_bytes(
            shape.vae_channels, plan.height, plan.width, tile_pixels, profile.vae_element_size, device
        )
    else:
        decode = vae_activation_bytes(shape.vae_channels, plan.height, plan.width, profile.vae_element_size, device)
    return MemoryEstimate(weights, sampling, decode, tiled)


def format_gib(count: int) -> str:
    """Memory in the engine's binary units: '10.0 GiB', '0.25 GiB', and '12 MiB' below a hundredth of a GiB."""
    if count < GIB / 100:
        return f"{max(1, round(count / 2**20))} MiB"
    return f"{count / GIB:.{1 if count >= GIB else 2}f} GiB"
