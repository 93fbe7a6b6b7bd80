"""Count a prompt's T5 tokens the way PixArt's pipeline will, without torch or transformers.

The GUI calls this on every keystroke, so it uses the `tokenizers` library directly: on the model's
`tokenizer.json` when present, else on a tokenizer rebuilt from `spiece.model` exactly as transformers'
`T5Tokenizer` rebuilds it (Unigram without byte fallback, the model's normalizer, whitespace split, a
`</s>` appended), so counts equal `len(T5Tokenizer.from_pretrained(folder)(text).input_ids)`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tokenizers import AddedToken, Tokenizer, normalizers, pre_tokenizers, processors
from tokenizers.models import Unigram

from app.core.request import MAX_TEXT_TOKENS, clean_text, is_control

log = logging.getLogger(__name__)

_TOKENIZER_SUBFOLDER = "tokenizer"
_DEFAULT_EXTRA_IDS = 100  # T5's sentinel tokens <extra_id_0..99>, unless tokenizer_config.json says otherwise
# sentencepiece piece types (sentencepiece_model.proto): these are matched whole in the raw text.
_UNKNOWN, _CONTROL, _USER_DEFINED = 2, 3, 4


@dataclass(frozen=True)
class TokenCount:
    """How many tokens a prompt uses, the </s> included, and the text the encoder will never see."""

    tokens: int
    limit: int = MAX_TEXT_TOKENS
    truncated_tail: str = ""  # a suffix of the counted text; empty when everything fits

    @property
    def truncated(self) -> bool:
        """True when the prompt is longer than the encoder reads."""
        return self.tokens > self.limit


class TokenCounter:
    """Counts T5 tokens of prompts for one model's tokenizer."""

    def __init__(self, tokenizer: Tokenizer, limit: int = MAX_TEXT_TOKENS) -> None:
        _check_limit(limit)
        tokenizer.no_truncation()
        tokenizer.no_padding()
        self._tokenizer = tokenizer
        self._limit = limit
        processor = tokenizer.post_processor
        self._appended = processor.num_special_tokens_to_add(False) if processor is not None else 0

    @classmethod
    def from_model_dir(cls, model_dir: Path, limit: int = MAX_TEXT_TOKENS) -> TokenCounter | None:
        """The counter of a diffusers model folder (or a tokenizer folder); None when it has no usable tokenizer."""
        _check_limit(limit)
        for folder in (Path(model_dir) / _TOKENIZER_SUBFOLDER, Path(model_dir)):
            try:
                if (folder / "tokenizer.json").is_file():
                    return cls(Tokenizer.from_file(str(folder / "tokenizer.json")), limit)
                if (folder / "spiece.model").is_file():
                    return cls(t5_tokenizer_from_sentencepiece(folder), limit)
            except Exception as err:  # a damaged tokenizer must not break the prompt editor
                log.warning("cannot read the tokenizer in %s: %s", folder, err)
                return None
        return None

    def count(self, text: str, *, preprocess: bool = True) -> TokenCount:
        """Count `text` as the pipeline will encode it.

        With `preprocess`, the text is first cleaned as a GenerationRequest cleans a prompt and then
        lower-cased and stripped as diffusers' PixArt pipeline does; the tail is still a suffix of `text`.
        """
        if preprocess:
            seen, origin = _pipeline_view(text)
        else:
            seen, origin = text, None
        encoding = self._tokenizer.encode(seen, add_special_tokens=True)
        tokens = len(encoding.ids)
        if tokens <= self._limit:
            return TokenCount(tokens, self._limit)
        # The tokenizer keeps limit - 1 tokens of text and then appends </s>; the rest is cut.
        cut = encoding.offsets[self._limit - self._appended][0]
        if origin is not None:
            return TokenCount(tokens, self._limit, text[origin[cut] :] if cut < len(origin) else "")
        return TokenCount(tokens, self._limit, seen[cut:])


def t5_tokenizer_from_sentencepiece(folder: Path) -> Tokenizer:
    """Rebuild, from `spiece.model`, the tokenizer transformers' T5Tokenizer builds from that file."""
    from sentencepiece import sentencepiece_model_pb2

    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString((folder / "spiece.model").read_bytes())
    config = _tokenizer_config(folder)
    extra_ids = int(config.get("extra_ids", _DEFAULT_EXTRA_IDS))
    sentinels = [f"<extra_id_{i}>" for i in range(extra_ids - 1, -1, -1)]
    vocab = [(piece.piece, piece.score) for piece in proto.pieces] + [(token, 0.0) for token in sentinels]
    tokenizer = Tokenizer(Unigram(vocab, unk_id=proto.trainer_spec.unk_id, byte_fallback=False))
    if proto.normalizer_spec.precompiled_charsmap:
        tokenizer.normalizer = normalizers.Precompiled(proto.normalizer_spec.precompiled_charsmap)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")]
    )
    whole = [piece.piece for piece in proto.pieces if piece.type in (_UNKNOWN, _CONTROL, _USER_DEFINED)]
    whole += sentinels + [_token_text(token) for token in config.get("additional_special_tokens") or ()]
    tokenizer.add_special_tokens([AddedToken(token, normalized=False, special=True) for token in dict.fromkeys(whole)])
    eos = proto.trainer_spec.eos_piece or "</s>"
    tokenizer.post_processor = processors.TemplateProcessing(
        single=["$A", eos], pair=["$A", eos, "$B", eos], special_tokens=[(eos, tokenizer.token_to_id(eos))]
    )
    return tokenizer


def _check_limit(limit: int) -> None:
    if limit < 2:
        raise ValueError(f"limit must leave room for one token and </s>, got {limit}")


def _tokenizer_config(folder: Path) -> dict[str, Any]:
    path = folder / "tokenizer_config.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _token_text(token: Any) -> str:
    return str(token["content"]) if isinstance(token, dict) else str(token)


def _pipeline_view(text: str) -> tuple[str, list[int] | None]:
    """The text the pipeline tokenizes, and for each of its characters the index it came from in `text`."""
    exact = clean_text(text).lower().strip()
    # Rebuild the same text character by character to know where each character came from; clean_text
    # drops some characters and turns line breaks into spaces, lower() may lengthen a character.
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in "\n\t\r":
            mapped = " "
        elif is_control(char):
            mapped = ""
        else:
            mapped = char.lower()
        chars.append(mapped)
        origin.extend([index] * len(mapped))
    rebuilt = "".join(chars)
    start = len(rebuilt) - len(rebuilt.lstrip())
    rebuilt = rebuilt.strip()
    origin = origin[start : start + len(rebuilt)]
    # Lower-casing a whole string can differ from per character (a final sigma) but never in length.
    return exact, origin if len(rebuilt) == len(exact) else None
