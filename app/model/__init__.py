"""The compressed-KV PixArt-Σ transformer: KV compression on diffusers, checkpoint conversion, safe loading."""
