"""The research tests run offline, offscreen and with their own PIXART_STUDIO_HOME, as the product's tests do."""

from tests.conftest import studio_home

__all__ = ["studio_home"]
