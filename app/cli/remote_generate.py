"""`pixart-studio generate --server URL`: the same command, rendered on a PixArt Studio server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from app.cli.engine_flags import engine_choice
from app.cli.generate import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    ProgressBar,
    checked_request,
    fail,
    prepare_output,
    refuse_to_overwrite,
    save_results,
    sized_request,
)
from app.core.remote_api import TOKEN_VARIABLE, EventType
from app.core.schedulers import default_guidance


def run_remote(args: argparse.Namespace) -> int:
    """Check the input here, render on the server, and write the PNGs here with where they were rendered."""
    from app.remote.client import RemoteClient
    from app.remote.errors import RemoteError, ServerRefusedError

    token = args.token or os.environ.get(TOKEN_VARIABLE, "")
    try:
        if not token:
            return fail(f"--server needs the server's token: give --token or set {TOKEN_VARIABLE}", EXIT_BAD_INPUT)
        if args.transformer:
            message = "--transformer names a file on this computer; a server offers whole models by id (--model)"
            return fail(message, EXIT_BAD_INPUT)
        request = checked_request(args)
        prepare_output(Path(args.out))
        refuse_to_overwrite(Path(args.out), request, args.overwrite)
        engine = engine_choice(args)
    except ValueError as error:
        return fail(str(error), EXIT_BAD_INPUT)

    bar = ProgressBar(sys.stderr)
    try:
        client = RemoteClient(args.server, token)
        model = _server_model(client, args.model)
        request = replace(request, model=model["id"])
        request = sized_request(args, request, int(model["native_resolution"]) or 1024)
        if args.guidance is None:
            request = replace(request, guidance_scale=default_guidance(request.scheduler, model.get("guidance_scale")))
        final, images, message = client.run(request, engine, previews=False, on_event=lambda e: _draw(bar, e))
    except ServerRefusedError as error:
        bar.end(keep=False)
        return fail(str(error), EXIT_BAD_INPUT if error.status in (404, 413, 422) else EXIT_FAILED)
    except (RemoteError, ValueError) as error:
        bar.end(keep=False)
        return fail(str(error), EXIT_BAD_INPUT if isinstance(error, ValueError) else EXIT_FAILED)
    bar.end(keep=final is EventType.FINISHED)
    if final is not EventType.FINISHED:
        return fail(message or f"the server {final.value} the job", EXIT_FAILED)
    return _write(args, client.url, images)


def _server_model(client: Any, wanted: str) -> dict[str, Any]:
    """The server's catalog entry for --model; ValueError listing what it offers."""
    models = client.models()
    for model in models:
        if model["id"] == wanted:
            return model
    offered = ", ".join(m["id"] for m in models) or "none"
    raise ValueError(f"--model {wanted!r} is not offered by the server; it offers: {offered}")


def _draw(bar: ProgressBar, event: dict[str, Any]) -> None:
    if event["type"] == EventType.PROGRESS.value:
        bar(SimpleNamespace(**{k: v for k, v in event.items() if k != "type"}))


def _write(args: argparse.Namespace, url: str, images: list) -> int:
    """Save each image as a local run would, its metadata marked with the server that rendered it."""
    from app.remote.results import result_from_remote

    results = [result_from_remote(image, rendered_on=url) for image in images]
    for warning in dict.fromkeys(w for result in results for w in result.warnings):
        print(f"warning: {warning}", file=sys.stderr)
    try:
        files = save_results(results, Path(args.out))
    except OSError as error:
        return fail(f"cannot write {args.out}: {error.strerror or error}", EXIT_FAILED)
    if args.json:
        first = results[0] if results else None
        engine = {"server": url, "requested": engine_choice(args)}
        if first is not None:
            engine |= {"device": first.device, "dtype": first.dtype}
        entries = [{"file": str(f), **r.metadata()} for f, r in zip(files, results, strict=True)]
        payload = {"engine": engine, "images": entries}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for file in files:
            print(file)
    return EXIT_OK
