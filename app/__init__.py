"""PixArt Studio: generate posters and wallpapers with PixArt-Σ on your own machine."""

__version__ = "0.1.0"
