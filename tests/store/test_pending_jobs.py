"""The unfinished-jobs file: requests round-trip exactly; an unreadable entry is skipped, not fatal."""

from __future__ import annotations

import json
from pathlib import Path

from app.core.request import GenerationRequest
from app.store.pending_jobs import PendingJobsFile


def test_requests_round_trip_in_order(tmp_path: Path) -> None:
    """Saved requests come back equal and in the same order; saving none empties the file."""
    file = PendingJobsFile(tmp_path / "pending-jobs.json")
    assert file.load() == []
    requests = [
        GenerationRequest(prompt="a red fox", width=1024, height=576, steps=12, seed=7),
        GenerationRequest(prompt="a blue hare", negative_prompt="blur", seed=2**40, batch_size=2),
    ]
    file.save(requests)
    assert PendingJobsFile(file.path).load() == requests
    file.save([])
    assert PendingJobsFile(file.path).load() == []


def test_an_entry_that_cannot_be_read_is_skipped(tmp_path: Path) -> None:
    """A job with a bad value (e.g. from another version) is dropped and the others are kept."""
    path = tmp_path / "pending-jobs.json"
    good = GenerationRequest(prompt="kept").to_dict()
    path.write_text(json.dumps({"version": 1, "jobs": [good, {"steps": -5}, "junk"]}), encoding="utf-8")
    assert PendingJobsFile(path).load() == [GenerationRequest(prompt="kept")]
