"""The sampling pipeline: prompt → T5 → denoising loop → VAE → image, equal to diffusers' PixArt-Σ pipeline."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from diffusers.utils.torch_utils import randn_tensor
from PIL import Image

from app.core.engine_options import EngineOptions
from app.core.errors import (
    InsufficientMemoryError,
    InvalidRequestError,
    ModelLoadError,
    StudioError,
    is_out_of_memory,
)
from app.core.memory_estimate import USABLE_FRACTION, MemoryEstimate, MemoryProfile, estimate_memory
from app.core.model_info import ModelInfo
from app.core.request import MAX_SEED, MAX_TEXT_TOKENS, GenerationRequest, GenerationResult
from app.core.sizes import GenerationPath, SizePlan, plan_size
from app.engine.denoise import Conditioning, check_finite, denoise
from app.engine.device_policy import device_free_memory, resolve_placement
from app.engine.images import resize_and_crop, to_pil, upscale
from app.engine.kv_policy import activate_kv_compression, choose_kv_compression, compression_when_on
from app.engine.memory import check_fits, element_size, model_shape, module_bytes, suggestions
from app.engine.modes.inpaint import KnownLatents, latent_mask
from app.engine.modes.pixels import to_tensor
from app.engine.modes.work import prepare, source_plan
from app.engine.previews import (
    MAX_LINEAR_ERROR,
    decode_previews_instead,
    decoded_preview,
    latent_rgb_map_for,
    preview_image,
)
from app.engine.progress import ProgressClock, StepProgress
from app.engine.prompt_encoding import EncodedText, PromptEncoder
from app.engine.schedulers import img2img_timesteps, make_scheduler
from app.engine.vae_decode import decode_latents, encode_image, vae_scale_factor
from app.model.device_memory import free_cached_memory
from app.model.loading import PixArtComponents, load_pipeline_components, model_hash, resolve_model_path

__all__ = ["Pipeline", "StepProgress"]

ProgressCallback = Callable[[StepProgress], None]


@dataclass(frozen=True)
class _Job:
    """What one call of `generate` shares between its images."""

    request: GenerationRequest
    plan: SizePlan
    positive: EncodedText
    negative: EncodedText
    clock: ProgressClock
    on_step: ProgressCallback | None
    cancel_event: threading.Event | None
    warnings: tuple[str, ...]


class Pipeline:
    """A loaded PixArt-Σ model that turns GenerationRequests into images; kept warm between jobs."""

    def __init__(
        self,
        components: PixArtComponents,
        options: EngineOptions = EngineOptions(),  # noqa: B008 - frozen dataclass, a safe default
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        self.components = components
        self._info = components.info
        self.options = options
        self._device = torch.device(device) if device is not None else components.transformer.device
        self._dtype = dtype or components.transformer.dtype
        self._encoder = PromptEncoder(components.tokenizer, components.text_encoder, self._device, self._dtype)
        self._hash: str | None = None
        self._closed = False

    @classmethod
    def load(
        cls,
        model: str | Path,
        transformer: str | Path | None = None,
        options: EngineOptions = EngineOptions(),  # noqa: B008 - frozen dataclass, a safe default
        progress: Callable[[str, float], None] | None = None,
    ) -> Pipeline:
        """Load a model folder (or "demo", or a cached Hub id) on the device and dtype the options pick."""
        path = resolve_model_path(model)
        placement = resolve_placement(options, path if path.is_dir() else None)
        components = load_pipeline_components(
            path,
            transformer=transformer,
            device=placement.device,
            dtype=placement.dtype,
            text_encoder_device=placement.text_encoder_device,
            text_encoder_8bit=placement.text_encoder_8bit,
            progress=progress,
        )
        return cls(components, options, placement.device, placement.dtype)

    @property
    def info(self) -> ModelInfo:
        """What the loaded model is."""
        return self._info

    @property
    def device(self) -> torch.device:
        """Where the transformer and VAE run."""
        return self._device

    @property
    def dtype(self) -> torch.dtype:
        """Sampling precision."""
        return self._dtype

    @property
    def native_resolution(self) -> int:
        """Side of the square the model was trained at, in pixels."""
        sample_size = self.components.transformer.config.sample_size
        return self.info.native_resolution or sample_size * vae_scale_factor(self.components.vae)

    def plan(self, request: GenerationRequest) -> SizePlan:
        """How the request's size is made by this model (bin, tier and path); masked-only inpaint samples its box."""
        if request.mode.needs_source:
            return source_plan(request, self.native_resolution)
        return plan_size(
            request.width,
            request.height,
            self.native_resolution,
            request.high_res,
            request.tier_scale,
            self.info.above_native,
        )

    @property
    def memory_profile(self) -> MemoryProfile:
        """What this model's job memory depends on, for the core estimate (the window gets the same)."""
        transformer, vae = self.components.transformer, self.components.vae
        return MemoryProfile(
            shape=model_shape(transformer, vae),
            device_type=self._device.type,
            element_size=element_size(self._dtype),
            vae_element_size=element_size(vae.dtype),
            kv_ratio=compression_when_on(transformer).ratio,
            has_trained_kv_weights=self.info.has_trained_kv_weights,
        )

    def estimate(self, request: GenerationRequest) -> MemoryEstimate:
        """Expected memory of one image of `request` on the device, by phase."""
        components = self.components
        weights = sum(
            module_bytes(m, self._device)
            for m in (components.transformer, components.vae, components.text_encoder)
            if m is not None
        )
        return estimate_memory(
            self.memory_profile,
            self.plan(request),
            request.guidance_scale,
            request.kv_compression,
            self.options.vae_tiling,
            weights,
        )

    def generate(
        self,
        request: GenerationRequest,
        on_step: ProgressCallback | None = None,
        cancel_event: threading.Event | None = None,
        on_result: Callable[[GenerationResult], None] | None = None,
    ) -> list[GenerationResult]:
        """Generate `request.batch_size` images with seeds seed, seed+1, ...

        `on_result` receives each image of a batch as soon as it is decoded, so images finished before a cancel or
        a failure later in the batch are never lost.

        Raises InvalidRequestError for a request this model cannot make, InsufficientMemoryError when it cannot
        fit (before starting) or ran out of memory, GenerationFailedError for NaN or inf, and
        GenerationCancelledError within one step of `cancel_event` being set. After any of them the job's memory
        is freed and the pipeline is ready for the next request.
        """
        if self._closed:
            raise StudioError("this model was closed; load it again to generate")
        try:
            return self._generate(request, on_step, cancel_event, on_result)
        except StudioError as error:
            failure: StudioError = type(error)(str(error))
        except (RuntimeError, MemoryError) as error:  # torch.cuda.OutOfMemoryError is a RuntimeError
            if not is_out_of_memory(error):
                raise
            tips = ", or ".join(suggestions(self.plan(request), self.native_resolution, self.options.vae_tiling, False))
            failure = InsufficientMemoryError(f"the device ran out of memory during generation; try {tips}")
        # Raised outside the except block, once the failed frames (and the tensors they hold) are released, so a
        # cancelled or failed job leaves its memory free for the next one.
        self._free_memory()
        raise failure

    @torch.no_grad()
    def _generate(
        self,
        request: GenerationRequest,
        on_step: ProgressCallback | None,
        cancel_event: threading.Event | None,
        on_result: Callable[[GenerationResult], None] | None,
    ) -> list[GenerationResult]:
        # 1. Validate: size plan, seeds, memory.
        plan = self.plan(request)
        if request.seed + request.batch_size - 1 > MAX_SEED:
            raise InvalidRequestError(f"seed {request.seed} + batch {request.batch_size} goes past {MAX_SEED}")
        estimate = self.estimate(request)
        check_fits(
            estimate,
            device_free_memory(self._device),
            self._device,
            plan,
            self.native_resolution,
            self.options.vae_tiling,
            self._text_encoder_on_device(),
        )
        warnings = [] if request.has_prompt else ["the prompt is empty; the image follows no description"]

        units = float(request.steps)
        if request.mode.needs_source:
            units = _kept_steps(request.steps, request.strength)
        elif plan.path is GenerationPath.REFINE:
            pixel_ratio = plan.width * plan.height / (plan.base_width * plan.base_height)
            units += max(1, int(request.steps * request.refine_strength)) * pixel_ratio
        clock = ProgressClock(units, request.batch_size)

        # 2. Encode the prompt (cached), then give the encoder's GPU memory back if the job is short of it.
        if on_step is not None:
            on_step(StepProgress(0, request.steps, 0.0, 0.0, "encoding", None, 0, request.batch_size))
        positive = self._encoder.encode(request.prompt)
        # The negative prompt (empty by default, as PixArt-Σ was released) only matters with guidance, as in diffusers.
        negative = self._encoder.encode(request.negative_prompt) if request.guidance_scale > 1.0 else positive
        if positive.truncated:
            warnings.append(
                f"the prompt is {positive.tokens} tokens; T5 reads only the first {MAX_TEXT_TOKENS}, "
                "the rest was ignored"
            )
        self._release_text_encoder_if_short(estimate)
        job = _Job(request, plan, positive, negative, clock, on_step, cancel_event, tuple(warnings))
        results = []
        for index in range(request.batch_size):
            results.append(self._generate_one(job, index))
            if on_result is not None:
                on_result(results[-1])
        return results

    def _generate_one(self, job: _Job, index: int) -> GenerationResult:
        request, plan = job.request.with_seed(job.request.seed + index), job.plan
        started = time.perf_counter()
        generator = torch.Generator("cpu").manual_seed(request.seed)
        cond = Conditioning.build(job.positive, job.negative, request.guidance_scale)
        transformer = self.components.transformer
        trained = self.info.has_trained_kv_weights

        if request.mode.needs_source:
            image, layers, ratio = self._from_source(job, index, cond, generator)
            return self._result(job, request, image, layers, ratio, started)
        if plan.path is GenerationPath.REFINE:
            base = choose_kv_compression(request.kv_compression, GenerationPath.NATIVE, transformer, trained)
            activate_kv_compression(transformer, base)
            latents = self._sample(job, index, cond, generator, plan.base_width, plan.base_height, "sampling")
            base_image = self._decode(latents)
            del latents
            upscaled = upscale(base_image, plan.width, plan.height)
            del base_image
            init = encode_image(self.components.vae, upscaled, generator, self.options.vae_tiling, self._available())
            del upscaled
            config = choose_kv_compression(request.kv_compression, GenerationPath.REFINE, transformer, trained)
            layers, ratio = activate_kv_compression(transformer, config)
            latents = self._sample(job, index, cond, generator, plan.width, plan.height, "refining", init)
        else:
            config = choose_kv_compression(request.kv_compression, plan.path, transformer, trained)
            layers, ratio = activate_kv_compression(transformer, config)
            latents = self._sample(job, index, cond, generator, plan.width, plan.height, "sampling")

        # 6. Decode, then resize and centre-crop to exactly the requested pixels.
        check_finite(latents, "final latents")
        self._report(job, index, request.steps, request.steps, "decoding", None)
        decoded = self._decode(latents)
        del latents
        image = to_pil(resize_and_crop(decoded, plan.target_width, plan.target_height))[0]
        return self._result(job, request, image, layers, ratio, started)

    def _from_source(
        self, job: _Job, index: int, cond: Conditioning, generator: torch.Generator
    ) -> tuple[Image.Image, tuple[int, ...], int]:
        """One image of an image mode: encode its init image, sample (blending known latents), paste back."""
        request, plan, transformer = job.request, job.plan, self.components.transformer
        work = prepare(request, plan, self.native_resolution)
        config = choose_kv_compression(request.kv_compression, plan.path, transformer, self.info.has_trained_kv_weights)
        layers, ratio = activate_kv_compression(transformer, config)
        vae = self.components.vae
        init = encode_image(vae, to_tensor(work.init), generator, self.options.vae_tiling, self._available())
        latents = self._sample(
            job, index, cond, generator, plan.width, plan.height, "sampling", init, request.strength, work.mask
        )
        del init
        check_finite(latents, "final latents")
        kept = _kept_steps(request.steps, request.strength)
        self._report(job, index, kept, kept, "decoding", None)
        decoded = self._decode(latents)
        del latents
        return work.finish(to_pil(decoded)[0]), layers, ratio

    def _result(
        self,
        job: _Job,
        request: GenerationRequest,
        image: Image.Image,
        layers: tuple[int, ...],
        ratio: int,
        started: float,
    ) -> GenerationResult:
        """The finished image with how it was made."""
        plan = job.plan
        return GenerationResult(
            image=image,
            request=request,
            path=plan.path,
            sampled_width=plan.width,
            sampled_height=plan.height,
            kv_compression_layers=layers,
            kv_compression_ratio=ratio,
            model_name=self.info.name,
            model_hash=self._model_hash(),
            is_demo_model=self.info.is_demo,
            device=str(self._device),
            dtype=str(self._dtype).removeprefix("torch."),
            duration_s=time.perf_counter() - started,
            prompt_tokens=job.positive.tokens,
            prompt_truncated=job.positive.truncated,
            warnings=job.warnings,
        )

    def _sample(
        self,
        job: _Job,
        index: int,
        cond: Conditioning,
        generator: torch.Generator,
        width: int,
        height: int,
        phase: str,
        init_latents: torch.Tensor | None = None,
        strength: float | None = None,
        mask: Image.Image | None = None,
    ) -> torch.Tensor:
        """Steps 3–5 of diffusers' pipeline at one size: timesteps, initial latents, the denoising loop.

        From `init_latents`, the last `strength` part of the schedule runs (the refine strength by default); with a
        `mask`, the latents it keeps are put back after every step, as diffusers' inpaint pipelines do.
        """
        request, transformer = job.request, self.components.transformer
        scheduler = make_scheduler(request.scheduler, self.components.scheduler.config)
        # 3. Timesteps: all of them, or the tail that a refine of `refine_strength` runs.
        if init_latents is None:
            scheduler.set_timesteps(request.steps, device=self._device)
            timesteps = scheduler.timesteps
        else:
            strength = request.refine_strength if strength is None else strength
            timesteps = img2img_timesteps(scheduler, request.steps, strength, self._device)
        # 4. Latents: noise drawn on the CPU in float32, so a seed means the same image on every device and dtype.
        factor = vae_scale_factor(self.components.vae)
        shape = (1, transformer.config.in_channels, height // factor, width // factor)
        noise = randn_tensor(shape, generator=generator, device=torch.device("cpu"), dtype=torch.float32)
        noise = noise.to(self._device, self._dtype)
        after_step = None
        if init_latents is None or (mask is not None and strength == 1.0):
            # An inpaint at full strength starts from pure noise, as diffusers' inpaint pipelines do.
            latents = noise * scheduler.init_noise_sigma
        else:
            latents = scheduler.add_noise(init_latents.to(self._dtype), noise, timesteps[:1])
        if mask is not None and init_latents is not None:
            keep = latent_mask(mask, *shape[-2:]).to(self._device, self._dtype)
            after_step = KnownLatents(scheduler, init_latents.to(self._dtype), noise, keep, timesteps)
        vae = self.components.vae
        # Previews only for a listener: without one (DemoBench, a script) they would be decoded for nobody, which
        # cost a third of the demo model's generation time.
        preview_every = self.options.preview_every if job.on_step is not None else 0
        rgb_map = latent_rgb_map_for(vae) if preview_every > 0 else None
        decode_previews = decode_previews_instead(rgb_map, *shape[-2:])
        if rgb_map is not None and rgb_map.error > MAX_LINEAR_ERROR:
            rgb_map = None  # its colours would mislead; decoded previews or none
        weight = width * height / (job.plan.base_width * job.plan.base_height) if phase == "refining" else 1.0

        def on_step(step: int, total: int, clean: torch.Tensor | None) -> None:
            job.clock.advance(weight)
            preview = None
            if clean is not None and decode_previews:
                preview = decoded_preview(vae, clean, width, height)
            elif clean is not None and rgb_map is not None:
                preview = preview_image(clean, rgb_map, width, height)
            self._report(job, index, step, total, phase, preview)

        # 5. The denoising loop.
        return denoise(
            transformer,
            scheduler,
            latents,
            timesteps,
            cond,
            generator,
            on_step=on_step,
            cancel_event=job.cancel_event,
            preview_every=preview_every,
            after_step=after_step,
        )

    def _decode(self, latents: torch.Tensor) -> torch.Tensor:
        """VAE decode with the tiling policy; the result is checked for NaN and inf."""
        vae = self.components.vae
        image = decode_latents(vae, latents.to(vae.dtype), self.options.vae_tiling, self._available())
        check_finite(image, "decoded image")
        return image

    def _available(self) -> int | None:
        """Free accelerator memory for the VAE's tiling choice; on the CPU the pixel threshold alone decides."""
        return device_free_memory(self._device) if self._device.type != "cpu" else None

    def _report(self, job: _Job, index: int, step: int, total: int, phase: str, preview) -> None:
        if job.on_step is not None:
            job.on_step(
                StepProgress(
                    step, total, job.clock.elapsed, job.clock.eta(), phase, preview, index, job.request.batch_size
                )
            )

    def _text_encoder_on_device(self) -> bool:
        encoder = self.components.text_encoder
        if encoder is None or self._device.type == "cpu":
            return False
        return next(encoder.parameters()).device.type == self._device.type

    def _release_text_encoder_if_short(self, estimate: MemoryEstimate) -> None:
        """Move the T5 encoder to the CPU when the job would not fit beside it (not for 8-bit encoders)."""
        encoder = self.components.text_encoder
        if not self._text_encoder_on_device() or getattr(encoder, "is_loaded_in_8bit", False):
            return
        if estimate.activations > device_free_memory(self._device) * USABLE_FRACTION:
            encoder.to("cpu")
            self._free_memory()

    def _model_hash(self) -> str:
        if self._hash is None:
            try:
                self._hash = model_hash(self.info.path)
            except (OSError, ModelLoadError, ValueError):
                self._hash = ""
        return self._hash

    def _free_memory(self) -> None:
        free_cached_memory(self._device)

    def close(self) -> None:
        """Free the models; the pipeline cannot generate afterwards."""
        self._encoder.clear()
        self._encoder.text_encoder = None
        self.components = None  # type: ignore[assignment]  # a closed pipeline holds no models; generate refuses
        self._closed = True
        self._free_memory()


def _kept_steps(steps: int, strength: float) -> int:
    """Steps an image mode runs: the last `strength` part of the schedule, at least one (as img2img_timesteps)."""
    return max(1, min(int(steps * strength), steps))
