"""Fixtures of the `gnews dev` tests."""

from __future__ import annotations

import psutil
import pytest

from gnews.dev.embedded import free_port


def new_children(before: set[int]) -> list[psutil.Process]:
    """Processes started by this test (the session's own servers are older children)."""
    return [p for p in psutil.Process().children(recursive=True) if p.pid not in before]


@pytest.fixture
def dev_dirs(tmp_path):
    """(data dir, a free API port, the log file, pids of processes that were already there);
    whatever the test started and left running is killed afterwards."""
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    yield tmp_path / "var", free_port(), tmp_path / "dev.log", before
    for proc in new_children(before):
        proc.kill()
