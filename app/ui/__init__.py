"""Widgets only; they talk to the engine through the controller's signals and never touch tensors."""
