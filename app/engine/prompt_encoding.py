"""T5 prompt encoding as diffusers' PixArt-Σ pipeline does it, with token counts and an LRU cache."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import torch
from torch import nn

from app.core.request import MAX_TEXT_TOKENS

CACHE_SIZE = 32


@dataclass(frozen=True)
class EncodedText:
    """T5 hidden states of one text, padded to MAX_TEXT_TOKENS, with its attention mask and untruncated length."""

    embeds: torch.Tensor  # (1, MAX_TEXT_TOKENS, D) on the sampling device, in the sampling dtype
    mask: torch.Tensor  # (1, MAX_TEXT_TOKENS)
    tokens: int  # tokens of the whole text, end-of-sequence included
    truncated: bool


def preprocess(text: str) -> str:
    """What diffusers feeds T5 with `clean_caption=False`: the text lowercased and stripped."""
    return text.lower().strip()


class PromptEncoder:
    """Encodes prompts with T5 and remembers the latest ones, so a new seed or size skips the encoder."""

    def __init__(
        self,
        tokenizer,
        text_encoder: nn.Module | None,
        device: torch.device,
        dtype: torch.dtype,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self.tokenizer = tokenizer
        self.text_encoder = text_encoder
        self.device = device
        self.dtype = dtype
        self.cache_size = cache_size
        self._cache: OrderedDict[str, EncodedText] = OrderedDict()

    def count_tokens(self, text: str) -> int:
        """T5 tokens of `text` as it will be encoded, end-of-sequence included."""
        return len(self.tokenizer(preprocess(text), add_special_tokens=True).input_ids)

    @torch.no_grad()
    def encode(self, text: str) -> EncodedText:
        """Hidden states of `text` (truncated to MAX_TEXT_TOKENS), from the cache when it is there."""
        key = preprocess(text)
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        inputs = self.tokenizer(
            key,
            padding="max_length",
            max_length=MAX_TEXT_TOKENS,
            truncation=True,
            add_special_tokens=True,
            return_tensors="pt",
        )
        if self.text_encoder is None:
            raise RuntimeError("the text encoder was released; load the model again")
        encoder_device = next(self.text_encoder.parameters()).device
        mask = inputs.attention_mask.to(encoder_device)
        hidden = self.text_encoder(inputs.input_ids.to(encoder_device), attention_mask=mask)[0]
        tokens = self.count_tokens(text)
        encoded = EncodedText(
            embeds=hidden.to(device=self.device, dtype=self.dtype),
            mask=mask.to(self.device),
            tokens=tokens,
            truncated=tokens > MAX_TEXT_TOKENS,
        )
        self._cache[key] = encoded
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return encoded

    def clear(self) -> None:
        """Forget every cached encoding."""
        self._cache.clear()
