"""What PostgreSQL itself says during bench/scale.py: sequential scans per big table (from
`pg_stat_user_tables`) and the heaviest statements (from `pg_stat_statements`)."""

from __future__ import annotations

import os
import time
from multiprocessing.synchronize import Event

import psycopg

from bench.scale_data import BIG_TABLES
from bench.worker_process import platform_worker
from core.settings import Settings

API_APP, WORKER_APP = "scale-api", "scale-worker"  # application_name of each side's backends


def labelled_worker(settings: Settings, ready: Event) -> None:
    """The platform's worker, its backends named apart from the API's (libpq reads
    PGAPPNAME at connect), so the API's can be told apart and ended."""
    os.environ["PGAPPNAME"] = WORKER_APP
    platform_worker(settings, ready)


# An idle backend flushes its pending table statistics within PGSTAT_IDLE_INTERVAL (10 s):
# what a process we cannot close (the worker) did is only visible after that.
IDLE_FLUSH_S = 11.0


class ScanCounter:
    """Sequential-scan counters of the big tables, and the backends that feed them.

    A backend's counts reach `pg_stat_user_tables` when it exits, or when it is idle after a
    transaction (at most once a second, at the latest 10 s later). The API's pool is closed
    after each operation, so its backends exit and their counts are in before the next one."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(url, autocommit=True, application_name="scale-probe")

    def counts(self) -> dict[str, int]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = self.conn.execute(
            "SELECT relname, seq_scan FROM pg_stat_user_tables WHERE relname = ANY(%s)",
            (list(BIG_TABLES),),
        ).fetchall()
        return {name: int(count) for name, count in rows}

    def backends(self, application: str) -> int:
        row = self.conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s",
            (application,),
        ).fetchone()
        return int(row[0]) if row else 0

    def settle(self, application: str, timeout_s: float = 30.0) -> None:
        """End the idle backends of `application` and wait until all have exited: a backend
        reports its counts when it exits. (Closing the API's pool is not enough: a connection
        checked out at that moment goes back to the old pool and stays open.)"""
        self.conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = %s AND state = 'idle'",
            (application,),
        )
        deadline = time.monotonic() + timeout_s
        while self.backends(application) and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> None:
        self.conn.close()


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    changed = {t: after.get(t, 0) - before.get(t, 0) for t in after}
    return {table: n for table, n in changed.items() if n}


class Statements:
    """`pg_stat_statements` in the bench's own database, if the server loads the module."""

    def __init__(self, url: str) -> None:
        self.url, self.why_not = url, ""
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                conn.execute("SELECT pg_stat_statements_reset()")
        except psycopg.Error as exc:
            preload = self._preload()
            self.why_not = (
                f"{str(exc).strip().splitlines()[0]} (shared_preload_libraries = '{preload}';"
                " adding it needs a server restart, which this bench does not do)"
            )

    def reset(self) -> None:
        if not self.why_not:
            with psycopg.connect(self.url, autocommit=True) as conn:
                conn.execute("SELECT pg_stat_statements_reset()")

    def _preload(self) -> str:
        with psycopg.connect(self.url, autocommit=True) as conn:
            row = conn.execute("SHOW shared_preload_libraries").fetchone()
        return str(row[0]) if row else ""

    def heaviest(self, n: int = 10) -> list[str]:
        if self.why_not:
            return [f"pg_stat_statements: not available: {self.why_not}"]
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute(
                "SELECT calls, total_exec_time, mean_exec_time, rows, query"
                " FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database"
                " WHERE datname = current_database()) ORDER BY total_exec_time DESC LIMIT %s",
                (n,),
            ).fetchall()
        lines = [f"{'calls':>7} {'total ms':>10} {'mean ms':>9} {'rows':>9}  query"]
        for calls, total, mean, count, query in rows:
            text = " ".join(str(query).split())[:160]
            lines.append(f"{calls:7d} {total:10.1f} {mean:9.2f} {count:9d}  {text}")
        return lines
