"""Silence the libraries' own progress bars wherever the app reports progress itself: CLI, self-test and GUI."""

from __future__ import annotations


def quiet_libraries() -> None:
    """Hide diffusers' and transformers' loading bars ("Loading weights") and warnings.

    The CLI draws one bar of its own and reports what matters in its own words (transformers' "sequence length is
    longer" would break the bar's line and repeat the truncation warning); the self-test prints one line per check;
    the GUI shows loading in its model status, and the bars would only reach the terminal it was started from.
    """
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()
