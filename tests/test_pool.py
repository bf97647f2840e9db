from __future__ import annotations

import os
import time

import pytest

from archive.ingest.pool import TaskFailed, run_tasks


def work(task: str) -> str:
    if task == "hang":
        time.sleep(600)
    if task == "crash":
        os._exit(3)  # as a segfault in a C decoder would end the worker
    return task.upper()


@pytest.mark.slow
def test_hung_and_crashing_tasks_cost_only_themselves() -> None:
    tasks = ["a", "hang", "b", "crash", "c", "d"]
    started = time.monotonic()
    results = dict(run_tasks(work, tasks, jobs=2, timeout=1.5))
    assert time.monotonic() - started < 20
    assert {k: v for k, v in results.items() if not isinstance(v, TaskFailed)} == {
        "a": "A", "b": "B", "c": "C", "d": "D"}
    assert "timed out" in str(results["hang"])
    assert "worker died (exit code 3)" in str(results["crash"])


def test_single_job_runs_in_process() -> None:
    assert list(run_tasks(work, ["x", "y"], jobs=1, timeout=1)) == [("x", "X"), ("y", "Y")]
