"""`pixart-studio serve`: run the engine behind the HTTP API so other machines can render on this one."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app.cli.engine_flags import add_engine_arguments, engine_overrides, saved_engine_options
from app.cli.serve_farm import add_farm_arguments, check_farm_arguments, serve_farm
from app.core.engine_options import EngineOptions
from app.core.errors import InvalidRequestError, ModelLoadError
from app.core.paths import AppPaths
from app.core.remote_api import DEFAULT_PORT

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
TOKEN_FILE = "server-token"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The serve subcommand's flags."""
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this computer only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0: any free)")
    parser.add_argument(
        "--token-file",
        type=Path,
        help="file holding the bearer token clients must send (required off loopback; default: a new random token "
        f"in the config folder's {TOKEN_FILE})",
    )
    parser.add_argument("--models", nargs="+", metavar="MODEL", help="model ids or folders to offer (default: all)")
    parser.add_argument(
        "--max-queue", type=int, default=4, help="jobs each client may have queued or running (default 4)"
    )
    parser.add_argument("--ssl-certfile", type=Path, help="TLS certificate (PEM), with --ssl-keyfile")
    parser.add_argument("--ssl-keyfile", type=Path, help="TLS private key (PEM), with --ssl-certfile")
    add_engine_arguments(parser)
    add_farm_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Check the flags, build the catalog and the renderer, and serve until interrupted."""
    from app.server.security import is_loopback, new_token_file, read_token_file

    paths = AppPaths.from_environment()
    farm_problem = check_farm_arguments(args)
    if farm_problem:
        print(f"error: {farm_problem}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        if not 0 <= args.port <= 65535:
            raise InvalidRequestError(f"--port {args.port} is out of range; use 1 to 65535 (0: any free port)")
        if args.max_queue < 1:
            raise InvalidRequestError(f"--max-queue {args.max_queue} must be at least 1")
        if (args.ssl_certfile is None) != (args.ssl_keyfile is None):
            raise InvalidRequestError("give both --ssl-certfile and --ssl-keyfile, or neither")
        for tls_file in (args.ssl_certfile, args.ssl_keyfile):
            if tls_file is not None and not tls_file.is_file():
                raise InvalidRequestError(f"TLS file {tls_file} does not exist")
        if args.token_file is None and not is_loopback(args.host):
            raise InvalidRequestError(
                f"--host {args.host} lets other machines connect: give --token-file FILE with a long random token "
                '(e.g. python -c "import secrets; print(secrets.token_urlsafe(32))" > FILE; chmod 600 FILE)'
            )
        options = EngineOptions.from_dict(saved_engine_options(paths).to_dict() | engine_overrides(args))
        if args.token_file is not None:
            token = read_token_file(args.token_file)
            token_note = f"the token in {args.token_file}"
        else:
            token_file = paths.config / TOKEN_FILE
            token = new_token_file(token_file)
            token_note = f"a new token written to {token_file} (only you can read it)"
        from app.server.catalog import ServerCatalog

        catalog = ServerCatalog.build(args.models, paths)
        from app.server.local_renderer import check_options

        check_options(options)
    except (ValueError, ModelLoadError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if not catalog.entries:
        print("error: no models to offer; add one with the model manager or give --models", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.ray:
        return serve_farm(args, catalog, options, token, token_note)
    return _serve(args, catalog, options, token, token_note)


def _serve(args: argparse.Namespace, catalog, options: EngineOptions, token: str, token_note: str) -> int:
    """Run uvicorn with the API until Ctrl+C; the renderer is closed (jobs cancelled, model freed) on the way out."""
    import uvicorn

    from app.server.api import create_app
    from app.server.limits import ServerSettings
    from app.server.local_renderer import LocalRenderer

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    renderer = LocalRenderer(catalog, options, max_queue=args.max_queue)
    app = create_app(renderer, ServerSettings(token=token))
    scheme = "https" if args.ssl_certfile else "http"
    print(
        f"PixArt Studio server on {scheme}://{args.host}:{args.port} with {', '.join(catalog.entries)}; "
        f"clients need {token_note}. API docs at /docs. Ctrl+C stops it.",
        file=sys.stderr,
        flush=True,
    )
    try:
        uvicorn.run(
            app,
            host=args.host,
            port=args.port,
            ssl_certfile=str(args.ssl_certfile) if args.ssl_certfile else None,
            ssl_keyfile=str(args.ssl_keyfile) if args.ssl_keyfile else None,
            log_level="info",
            ws_ping_interval=5.0,
            ws_ping_timeout=10.0,
        )
    finally:
        renderer.close()
    return EXIT_OK
