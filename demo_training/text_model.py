"""The demo's tokenizer (a small sentencepiece model) and its tiny, frozen, randomly initialised T5 encoder."""

from __future__ import annotations

import random
from pathlib import Path

import torch
from transformers import T5Config, T5EncoderModel, T5Tokenizer

from demo_training.shapes_world import BACKGROUNDS, COLORS, POSITIONS, SHAPES, SIZES, all_scenes
from tests.spiece import train_spiece_model

MODEL_MAX_LENGTH = 300  # as PixArt-Σ; the GUI's token counter and the engine truncate here
# A modest general vocabulary so ordinary prompts split into word pieces, not bytes.
_GENERAL_WORDS = (  # noqa: SIM905 (a word list reads best as text)
    "the of and to in is it you that he was for on are as with his they at be this have from or one had by "
    "word but not what all were we when your can said there use an each which she do how their if will up "
    "other about out many then them these so some her would make like him into time has look two more write "
    "go see number no way could people my than first water been call who oil its now find long down day did "
    "get come made may part photo photograph painting portrait poster wallpaper landscape city street night "
    "sky sun moon star cloud sea ocean mountain forest tree flower garden river lake beach house room window "
    "door light dark shadow color bright soft sharp detailed realistic cinematic style art artist digital "
    "oil watercolor sketch drawing render cat dog bird horse fish woman man girl boy child face eye hair "
    "hand dress car road bridge castle robot dragon beautiful old new big little tall short warm cold happy "
    "sad quiet golden silver pink brown cyan magenta morning evening sunset sunrise winter summer spring "
    "autumn snow rain fog fire smoke glass metal wood stone high quality resolution 4k 8k hd ultra highly "
    "intricate masterpiece lighting studio background foreground center left right top bottom middle corner "
    "shape object circle square triangle rectangle line dot pattern"
).split()


def _training_text(rng: random.Random) -> list[str]:
    scenes = all_scenes()
    lines = [scene.prompt for scene in rng.sample(scenes, 400)]
    vocabulary = [*SIZES, *COLORS, *SHAPES, *POSITIONS, *BACKGROUNDS, *_GENERAL_WORDS]
    for _ in range(400):
        lines.append(" ".join(rng.choice(vocabulary) for _ in range(rng.randint(3, 12))))
    return lines


def build_tokenizer(folder: Path, vocab_size: int = 1000, seed: int = 0) -> T5Tokenizer:
    """Train a byte-fallback unigram sentencepiece model and save it as a T5 tokenizer in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    spiece = train_spiece_model(_training_text(random.Random(seed)), vocab_size)
    (folder / "spiece.model").write_bytes(spiece)
    # Loading from the folder converts spiece.model to a fast tokenizer; saving adds tokenizer.json beside it.
    tokenizer = T5Tokenizer.from_pretrained(folder, extra_ids=0, model_max_length=MODEL_MAX_LENGTH)
    tokenizer.save_pretrained(folder)
    # transformers' T5Tokenizer rebuilds its Unigram model without byte fallback, so characters outside the
    # vocabulary become <unk> exactly as with the real T5 tokenizer; tokenizer.json agrees with what the model sees.
    return T5Tokenizer.from_pretrained(folder)


def build_text_encoder(vocab_size: int, d_model: int = 64, seed: int = 0) -> T5EncoderModel:
    """A tiny T5 encoder with random weights; frozen, it still gives every token a distinct embedding."""
    config = T5Config(
        vocab_size=vocab_size,
        d_model=d_model,
        d_kv=16,
        d_ff=2 * d_model,
        num_layers=2,
        num_heads=4,
        relative_attention_num_buckets=32,
        relative_attention_max_distance=128,
        feed_forward_proj="gated-gelu",  # as T5 v1.1, the family of PixArt-Σ's text encoder
        dropout_rate=0.0,
        is_encoder_decoder=False,
        use_cache=False,
        pad_token_id=0,
        eos_token_id=1,
    )
    torch.manual_seed(seed)
    return T5EncoderModel(config).eval().requires_grad_(False)


@torch.no_grad()
def encode_prompts(
    tokenizer: T5Tokenizer, encoder: T5EncoderModel, prompts: list[str], length: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings (N, length, d) and attention masks (N, length), padded as the pipeline pads them."""
    tokens = tokenizer(
        prompts, padding="max_length", max_length=length, truncation=True, add_special_tokens=True, return_tensors="pt"
    )
    hidden = encoder(tokens.input_ids, attention_mask=tokens.attention_mask)[0]  # (N, L, d)
    return hidden, tokens.attention_mask
