"""Start (or join) a Ray cluster and run the farm on it: the renderer deployment behind the ingress deployment."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from typing import Any

import ray
from ray import serve

from app.core.engine_options import EngineOptions
from app.core.errors import ModelLoadError
from app.server.catalog import ServerCatalog
from app.server.farm.ingress import FarmIngress
from app.server.farm.renderer import Renderer
from app.server.farm.scale import FarmScale
from app.server.limits import ServerSettings

log = logging.getLogger(__name__)
APP_NAME = "pixart-studio"
LOAD_ATTEMPTS = 2  # a replica whose model does not load is started this many times, then the farm reports it
_QUIET = {"enable_access_log": False}  # a line per image step would drown the replicas' own messages


@dataclass(frozen=True)
class FarmPlan:
    """Everything `deploy` needs: what to serve, where to listen, and how many replicas."""

    catalog: ServerCatalog
    model: str  # the catalog id every replica loads first
    options: EngineOptions
    settings: ServerSettings
    scale: FarmScale
    host: str = "127.0.0.1"
    port: int = 7860
    max_queue: int = 4
    ssl_certfile: str | None = None
    ssl_keyfile: str | None = None
    app_name: str = APP_NAME  # another name (and prefix) lets a second farm share the cluster
    route_prefix: str = "/"


def connect(address: str | None) -> bool:
    """Join the cluster at `address` ("auto", "ray://HOST:PORT") or start a local instance; True when started here."""
    if ray.is_initialized():
        return False
    if address is None:
        ray.init(include_dashboard=False, log_to_driver=True)
        return True
    ray.init(address=address, log_to_driver=True)
    return False


def free_port(host: str) -> int:
    """A port nobody listens on now (Serve's proxy needs a number; `--port 0` means any)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class RunningFarm:
    """A deployed farm: its ingress handle and the address clients use."""

    ingress: Any
    url: str


def deploy(plan: FarmPlan) -> RunningFarm:
    """Run the farm application and wait until every replica has loaded its model.

    Raises ModelLoadError with the replicas' own message when the model cannot be loaded (after LOAD_ATTEMPTS).
    """
    http: dict[str, Any] = {"host": plan.host, "port": plan.port or free_port(plan.host)}
    if plan.ssl_certfile:
        http |= {"ssl_certfile": plan.ssl_certfile, "ssl_keyfile": plan.ssl_keyfile}
    serve.start(http_options=http)
    # Serve applies http_options only when it starts: on a cluster where it already runs, its proxy keeps its own
    # host and port, and clients must be told those.
    client = serve.context._get_global_client()
    assert client is not None, "serve.start() leaves a client behind"
    bound = client.http_config
    if (bound.host, bound.port) != (http["host"], http["port"]):
        log.warning(
            "Ray Serve already runs on this cluster and listens on %s:%s; --host/--port are not applied (run "
            "`serve shutdown` on the cluster to change them)",
            bound.host,
            bound.port,
        )
    gpus = ray.cluster_resources().get("GPU", 0.0)
    scale = plan.scale.deployment_options(gpus)
    # As many jobs at once as there can be replicas, so single-image jobs of several clients keep all of them busy.
    concurrent_jobs = scale.get("num_replicas") or scale["autoscaling_config"]["max_replicas"]
    renderer = serve.deployment(
        name="renderer",
        max_ongoing_requests=1,  # one image at a time per model copy; waiting images queue in the ingress's router
        max_constructor_retry_count=LOAD_ATTEMPTS,
        logging_config=_QUIET,
        **scale,
    )(Renderer).bind(str(plan.catalog.path(plan.model)), plan.options.to_dict(), plan.scale.threads)
    ingress = serve.deployment(
        name="ingress",
        num_replicas=1,  # it holds the jobs and the streams that watch them
        max_ongoing_requests=1000,  # event streams stay open for a whole job
        ray_actor_options={"num_cpus": 0},
        logging_config=_QUIET,
    )(FarmIngress).bind(renderer, plan.catalog, plan.options.to_dict(), plan.settings, plan.max_queue, concurrent_jobs)
    try:
        handle = serve.run(ingress, name=plan.app_name, route_prefix=plan.route_prefix)
    except RuntimeError as error:
        raise ModelLoadError(f"the farm did not start: {_failure(plan.app_name, error)}") from None
    scheme = "https" if plan.ssl_certfile else "http"
    return RunningFarm(handle, f"{scheme}://{bound.host}:{bound.port}{plan.route_prefix.rstrip('/')}")


def shutdown(started_here: bool, app_name: str = APP_NAME) -> None:
    """Delete the farm application; a local Ray instance started by `connect` is stopped too."""
    try:
        serve.delete(app_name)
    finally:
        if started_here:
            serve.shutdown()
            ray.shutdown()


def _failure(app_name: str, error: RuntimeError) -> str:
    """The replicas' own reason (a model that does not load), not Serve's generic "failed to update"."""
    try:
        status = serve.status().applications[app_name]
    except (KeyError, RuntimeError):
        return str(error)
    for name, deployment in status.deployments.items():
        if deployment.message:
            lines = [line for line in deployment.message.strip().splitlines() if line.strip()]
            return f"deployment {name}: {lines[-1] if lines else deployment.message}"
    return status.message or str(error)
