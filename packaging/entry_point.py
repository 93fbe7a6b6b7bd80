"""Entry script of the frozen bundle: the same `main` as the `pixart-studio` command."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()
    sys.exit(main())
