"""The CLI's tests run the engine on the same tiny random pipeline as the engine's tests."""

from tests.engine.conftest import one_torch_thread, tiny_model_dir

__all__ = ["one_torch_thread", "tiny_model_dir"]
