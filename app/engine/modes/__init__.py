"""Working from an image: image to image, variations, upscale, inpaint and outpaint (no Qt)."""
