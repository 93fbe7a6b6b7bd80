"""What a server accepts: the token, body size, prompt length, image size, steps and batch, per request."""

from __future__ import annotations

from dataclasses import dataclass

from app.core.errors import InvalidRequestError
from app.core.request import GenerationRequest

MIB = 1024 * 1024


@dataclass(frozen=True)
class ServerSettings:
    """The API's security and limits; the token is never logged or shown (repr hides it)."""

    token: str
    max_body_bytes: int = 64 * MIB  # room for a 4K source image and mask as base64 PNG
    max_prompt_chars: int = 4000  # T5 reads 300 tokens, about 1 500 characters of English
    max_pixels: int = 4096 * 4096
    max_steps: int = 200
    max_batch: int = 8

    def __repr__(self) -> str:
        return f"ServerSettings(token=<hidden>, max_body_bytes={self.max_body_bytes}, max_steps={self.max_steps})"

    def check(self, request: GenerationRequest) -> None:
        """InvalidRequestError naming the field when a request is beyond this server's limits."""
        for name in ("prompt", "negative_prompt"):
            length = len(getattr(request, name))
            if length > self.max_prompt_chars:
                raise InvalidRequestError(
                    f"{name} is {length:,} characters; this server takes {self.max_prompt_chars:,}"
                )
        if request.width * request.height > self.max_pixels:
            raise InvalidRequestError(
                f"width {request.width} × height {request.height} is beyond this server's {self.max_pixels:,} pixels"
            )
        if request.steps > self.max_steps:
            raise InvalidRequestError(f"steps {request.steps} is beyond this server's limit of {self.max_steps}")
        if request.batch_size > self.max_batch:
            raise InvalidRequestError(
                f"batch_size {request.batch_size} is beyond this server's limit of {self.max_batch}"
            )
