"""Data-parallel training over CPU processes: each one takes a share of every batch, then all average gradients.

A training step of the demo transformer runs its matrix products near one core's peak on one thread (profiled:
about 78 % of the AVX2 rate), and a second intra-op thread gains less than a second process working on the other
half of the batch: on a 2-core EPYC a stage-2 step took 0.605 s with one process and two threads, 0.540 s with two
single-thread processes (`python -m benchmarks --only train`). Every process draws the whole batch from the same
generator and keeps its own share, so the averaged gradient is the single-process one up to float rounding.
"""

from __future__ import annotations

import pickle
import tempfile
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

Result = TypeVar("Result")
# A helper waits in its next gradient exchange while the main process scores checkpoints (minutes on a CPU).
_EXCHANGE_TIMEOUT = timedelta(hours=2)
_HELPER_EXIT_TIMEOUT_S = 60


@dataclass(frozen=True)
class Shard:
    """This process's place among `world` data-parallel processes; rank 0 is the one that logs and evaluates."""

    rank: int
    world: int

    def share(self, batch: int) -> slice:
        """This process's rows of a batch of `batch` rows."""
        if batch % self.world:
            raise ValueError(f"a batch of {batch} cannot be split evenly over {self.world} processes")
        size = batch // self.world
        return slice(self.rank * size, (self.rank + 1) * size)


def average_gradients(params: Sequence[torch.Tensor], loss: torch.Tensor, shard: Shard) -> torch.Tensor:
    """Replace every gradient by its mean over the processes, in one exchange; returns the mean loss too."""
    grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
    flat = torch.cat([g.reshape(-1) for g in grads] + [loss.detach().reshape(1)])
    dist.all_reduce(flat)
    flat /= shard.world
    offset = 0
    for param, grad in zip(params, grads, strict=True):
        param.grad = flat[offset : offset + grad.numel()].view_as(grad)
        offset += grad.numel()
    return flat[-1]


@contextmanager
def _process_group(shard: Shard, rendezvous: Path):
    dist.init_process_group(
        "gloo", init_method=rendezvous.as_uri(), rank=shard.rank, world_size=shard.world, timeout=_EXCHANGE_TIMEOUT
    )
    try:
        yield
    finally:
        dist.destroy_process_group()


def _helper_main(helper: Callable[..., Any], shard: Shard, rendezvous: Path, payload: bytes, ready: Any) -> None:
    """Entry point of a spawned helper process."""
    torch.set_num_threads(1)
    args = pickle.loads(payload)
    ready.set()
    with _process_group(shard, rendezvous):
        helper(*args, shard=shard)


def _wait_until_ready(helpers: list, events: list) -> None:
    """Wait for every helper to have started (imports done, arguments unpickled), or raise if one died first.

    Joining the process group waits for every member for the whole exchange timeout, so a helper that never
    gets there must be noticed here; once all have joined, a helper that dies breaks the next exchange at once.
    """
    while not all(event.wait(timeout=0.5) for event in events):
        dead = [process.exitcode for process in helpers if not process.is_alive()]
        if dead:
            raise RuntimeError(f"a data-parallel helper process failed to start (exit codes {dead}); see its output")


def run_data_parallel(
    main: Callable[[Shard], Result], helper: Callable[..., Any], helper_args: tuple, processes: int
) -> Result:
    """`main(Shard(0, n))` here and `helper(*helper_args, shard=Shard(r, n))` in n - 1 spawned processes.

    Every process runs one torch thread for the duration. The helpers must make the same gradient exchanges as
    `main`. `helper_args` reach them pickled by value: handed to a process as they are, torch would move their
    tensors into shared memory, and every process would then update the same weights.
    """
    context = mp.get_context("spawn")
    payload = pickle.dumps(helper_args)
    threads = torch.get_num_threads()
    with tempfile.TemporaryDirectory(prefix="pixart-ddp-") as folder:
        rendezvous = Path(folder) / "rendezvous"
        events = [context.Event() for _ in range(1, processes)]
        helpers = [
            context.Process(
                target=_helper_main, args=(helper, Shard(rank, processes), rendezvous, payload, events[rank - 1])
            )
            for rank in range(1, processes)
        ]
        for process in helpers:
            process.start()
        torch.set_num_threads(1)
        try:
            _wait_until_ready(helpers, events)
            with _process_group(Shard(0, processes), rendezvous):
                result = main(Shard(0, processes))
        finally:
            torch.set_num_threads(threads)
            for process in helpers:
                process.join(_HELPER_EXIT_TIMEOUT_S)
                if process.is_alive():
                    process.terminate()
        failed = [process.exitcode for process in helpers if process.exitcode != 0]
        if failed:
            raise RuntimeError(f"a data-parallel helper process failed (exit codes {failed}); see its output above")
    return result
