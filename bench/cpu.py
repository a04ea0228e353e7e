"""Where the CPU goes during a benchmark phase: CPU seconds of this process (the benchmark's
clients and the in-process API), of each process it started (Temporal server, workers,
receiver, SeaweedFS) and of the PostgreSQL backends serving its database. Read from /proc,
so it is the work done, whatever else the machine runs at the same time."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    """(parent pid, CPU seconds) of a process, None once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw[raw.rindex(")") + 2 :].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / TICK


def _name(pid: int) -> str:
    from bench.receiver import RECEIVER_PIDS

    if pid in RECEIVER_PIDS:
        return "callback receiver"
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "gone"
    for marker, name in (
        ("temporal", "temporal server"),
        ("weed", "seaweedfs"),
        ("multiprocessing", "worker"),
    ):
        if marker in cmd:
            return name
    return "other child"


class CpuMeter:
    def __init__(self, database_url: str | None = None) -> None:
        self.engine = create_engine(database_url) if database_url else None
        self.names: dict[int, str] = {}

    def _backends(self) -> list[int]:
        if self.engine is None:
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            )
            return [row[0] for row in rows]

    def snapshot(self) -> dict[int, tuple[str, float]]:
        me = os.getpid()
        parents: dict[int, int] = {}
        cpu: dict[int, float] = {}
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and (stat := _stat(int(entry.name))) is not None:
                parents[int(entry.name)], cpu[int(entry.name)] = stat
        out: dict[int, tuple[str, float]] = {me: ("benchmark + API", cpu.get(me, 0.0))}
        for pid in cpu:
            up, seen = parents.get(pid), 0
            while up and up != me and seen < 20:
                up, seen = parents.get(up), seen + 1
            if up == me and pid != me:
                if pid not in self.names:
                    self.names[pid] = _name(pid)
                out[pid] = (self.names[pid], cpu[pid])
        for pid in self._backends():
            if pid in cpu:
                out[pid] = ("postgresql", cpu[pid])
        return out

    def since(self, before: dict[int, tuple[str, float]]) -> dict[str, float]:
        """CPU seconds per component since `before` (processes that appeared count whole)."""
        spent: dict[str, float] = {}
        for pid, (name, seconds) in self.snapshot().items():
            spent[name] = spent.get(name, 0.0) + seconds - before.get(pid, (name, 0.0))[1]
        return spent

    def close(self) -> None:
        if self.engine is not None:
            self.engine.dispose()


def cpu_table(rows: list[tuple[str, dict[str, float], int]]) -> None:
    """CPU milliseconds per order, per component, for each phase."""
    names = sorted({n for _, spent, _ in rows for n in spent})
    print("\nCPU ms per order " + " ".join(f"{n[:18]:>18}" for n in [*names, "total"]))
    for phase, spent, orders in rows:
        cells = [spent.get(n, 0.0) * 1000 / max(orders, 1) for n in names]
        line = " ".join(f"{c:18.1f}" for c in [*cells, sum(cells)])
        print(f"{phase:16} {line}")
