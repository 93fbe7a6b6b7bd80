"""How many renderer replicas a farm runs: a fixed count, or an autoscaling range, and the devices each gets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import InvalidRequestError

MAX_REPLICAS = 1024


@dataclass(frozen=True)
class FarmScale:
    """Replicas of the renderer: `replicas` fixed, or between `minimum` and `maximum` by load (autoscaling)."""

    replicas: int | None = None  # None with no range: one per GPU of the cluster, or 1 without GPUs
    minimum: int | None = None
    maximum: int | None = None
    threads: int = 1  # CPU threads of a replica on a cluster without GPUs

    def __post_init__(self) -> None:
        if self.replicas is not None and self.minimum is not None:
            raise InvalidRequestError("choose either --replicas N or --autoscale MIN,MAX, not both")
        if self.replicas is not None and not 1 <= self.replicas <= MAX_REPLICAS:
            raise InvalidRequestError(f"--replicas {self.replicas} is out of range; use 1 to {MAX_REPLICAS}")
        low, high = self.minimum, self.maximum
        if low is not None and (high is None or not 0 <= low <= high or not 1 <= high <= MAX_REPLICAS):
            raise InvalidRequestError(
                f"--autoscale {low},{high} is not a range; give MIN,MAX with 0 ≤ MIN ≤ MAX, 1 ≤ MAX ≤ {MAX_REPLICAS}"
            )
        if not 1 <= self.threads <= 256:
            raise InvalidRequestError(f"threads per replica {self.threads} is out of range; use 1 to 256")

    @classmethod
    def parse_autoscale(cls, text: str, threads: int = 1) -> FarmScale:
        """`MIN,MAX` as typed after --autoscale."""
        parts = text.replace(" ", "").split(",")
        if len(parts) != 2 or not all(p.isdigit() for p in parts):
            raise InvalidRequestError(f"--autoscale {text!r} is not MIN,MAX; write e.g. --autoscale 1,4")
        return cls(minimum=int(parts[0]), maximum=int(parts[1]), threads=threads)

    @property
    def autoscaling(self) -> bool:
        """True for a MIN,MAX range."""
        return self.minimum is not None

    def deployment_options(self, cluster_gpus: float) -> dict[str, Any]:
        """Ray Serve options of the renderer deployment on a cluster with `cluster_gpus` GPUs."""
        gpu = cluster_gpus >= 1
        actor = {"num_gpus": 1, "num_cpus": 1} if gpu else {"num_gpus": 0, "num_cpus": self.threads}
        options: dict[str, Any] = {"ray_actor_options": actor}
        if self.autoscaling:
            options["autoscaling_config"] = {
                "min_replicas": self.minimum,
                "initial_replicas": max(1, self.minimum or 0),
                "max_replicas": self.maximum,
                # A replica renders one image at a time; a waiting image is a reason to add one.
                "target_ongoing_requests": 1,
                "upscale_delay_s": 5.0,
                "downscale_delay_s": 120.0,  # a model load costs seconds to minutes: keep warm replicas a while
            }
        else:
            options["num_replicas"] = self.replicas or (int(cluster_gpus) if gpu else 1)
        return options
