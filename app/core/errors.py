"""The error types every layer raises; each message names what is wrong and what to do."""


class StudioError(Exception):
    """Base class of the errors PixArt Studio shows to a user."""


class InvalidRequestError(StudioError, ValueError):
    """A generation request (or a CLI argument) has a bad value."""


class ModelLoadError(StudioError):
    """A model folder or weights file cannot be loaded; the message names the file."""


class InsufficientMemoryError(StudioError):
    """A request cannot fit in the memory of the chosen device."""


class GenerationCancelledError(StudioError):
    """The user cancelled a running generation."""


class GenerationFailedError(StudioError):
    """Sampling produced unusable output (NaN or inf) or failed at run time."""


class StoreError(StudioError):
    """The gallery store could not save, read or index an image."""


def is_out_of_memory(error: BaseException) -> bool:
    """Whether an error means the device or the machine ran out of memory (torch's, CUDA's, MPS's or Python's)."""
    return (
        isinstance(error, MemoryError)
        or type(error).__name__ == "OutOfMemoryError"  # torch.cuda.OutOfMemoryError, without importing torch
        or "out of memory" in str(error).lower()
    )
