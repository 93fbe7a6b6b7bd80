"""`pixart-studio serve --ray`: the same /v1 API as a Ray Serve application across GPUs and machines."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import time

from app.core.engine_options import EngineOptions
from app.core.errors import InvalidRequestError, StudioError

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
MISSING_EXTRA = (
    "--ray needs Ray Serve, which is not installed: pip install -e \".[farm]\" (or pip install 'ray[serve]')"
)
_FARM_ONLY = ("address", "replicas", "autoscale")


def add_farm_arguments(parser: argparse.ArgumentParser) -> None:
    """The farm's flags on the serve subcommand."""
    farm = parser.add_argument_group("render farm (Ray Serve; needs the farm extra)")
    farm.add_argument("--ray", action="store_true", help="serve as a Ray Serve application: replicas across GPUs")
    farm.add_argument("--address", help="join this Ray cluster (auto, or ray://HOST:PORT); default: start one here")
    scale = farm.add_mutually_exclusive_group()
    scale.add_argument("--replicas", type=int, help="renderer replicas (default: one per GPU, or 1 without GPUs)")
    scale.add_argument("--autoscale", metavar="MIN,MAX", help="let Ray Serve keep between MIN and MAX replicas")
    farm.add_argument(
        "--replica-threads", type=int, default=1, help="CPU threads of each replica on a farm without GPUs (default 1)"
    )


def check_farm_arguments(args: argparse.Namespace) -> str | None:
    """Why the farm flags cannot be used as given (the message for exit 2), or None."""
    if not args.ray:
        given = [f"--{name}" for name in _FARM_ONLY if getattr(args, name) is not None]
        return f"{', '.join(given)} only work with --ray" if given else None
    if importlib.util.find_spec("ray") is None or importlib.util.find_spec("ray.serve") is None:
        return MISSING_EXTRA
    try:
        _scale(args)
    except InvalidRequestError as error:
        return str(error)
    return None


def _scale(args: argparse.Namespace):
    from app.server.farm.scale import FarmScale

    if args.autoscale is not None:
        return FarmScale.parse_autoscale(args.autoscale, threads=args.replica_threads)
    return FarmScale(replicas=args.replicas, threads=args.replica_threads)


def serve_farm(args: argparse.Namespace, catalog, options: EngineOptions, token: str, token_note: str) -> int:
    """Deploy the farm, print where it listens, and keep it up until Ctrl+C (then delete it)."""
    from app.server.farm.launch import FarmPlan, connect, deploy, shutdown
    from app.server.limits import ServerSettings

    model = next(iter(catalog.entries))
    plan = FarmPlan(
        catalog=catalog,
        model=model,
        options=options,
        settings=ServerSettings(token=token),
        scale=_scale(args),
        host=args.host,
        port=args.port,
        max_queue=args.max_queue,
        ssl_certfile=str(args.ssl_certfile) if args.ssl_certfile else None,
        ssl_keyfile=str(args.ssl_keyfile) if args.ssl_keyfile else None,
    )
    try:
        started_here = connect(args.address)
    except (ConnectionError, RuntimeError, ValueError) as error:
        print(f"error: cannot reach the Ray cluster at {args.address}: {error}", file=sys.stderr)
        print("start one with `ray start --head`, or leave out --address to start Ray here", file=sys.stderr)
        return EXIT_FAILED
    signal.signal(signal.SIGTERM, _interrupt)  # a service manager's stop deletes the farm as Ctrl+C does
    try:
        print(f"starting the farm: every renderer replica loads {model} …", file=sys.stderr, flush=True)
        farm = deploy(plan)
        print(
            f"PixArt Studio farm on {farm.url} with {', '.join(catalog.entries)}; clients need {token_note}. "
            "`serve status` shows the replicas. Ctrl+C stops it.",
            file=sys.stderr,
            flush=True,
        )
        while True:
            time.sleep(3600)
    except StudioError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print("stopping the farm …", file=sys.stderr, flush=True)
    finally:
        shutdown(started_here)
    return EXIT_OK


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt
