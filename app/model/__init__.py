"""The compressed-KV PixArt-Σ transformer: KV compression on diffusers, checkpoint conversion, safe loading.

Import names from their modules; `app.model.catalog` and `app.model.kv_config` never import torch.
"""
