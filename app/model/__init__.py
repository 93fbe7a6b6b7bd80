"""The compressed-KV PixArt-Σ transformer: KV compression on diffusers, checkpoint conversion, safe loading.

Import names from their modules; `app.model.catalog` never imports torch.
"""
