"""CPU seconds of processes and of the services the distributed engine runs on, read from /proc (Linux).

PostgreSQL: the backends of a run's sessions (their `application_name` names the run's schema or queue
prefix: ledger `firmsim-ledger:<schema>`, coordination `firmsim-worker:<prefix>:<worker>`) and the
server's background processes (WAL writer, checkpointer, ...: shared with whatever else uses the
server). RabbitMQ: the whole broker (`beam.smp`), shared too. A process that ends between two readings
loses its share (a backend lives as long as its worker). Used by `firmsim load` and bench_engine.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

Reading = dict[str, dict[int, float]]
"""CPU seconds by service, then by process id."""


def cpu_seconds(pid: int) -> float:
    """Return a process's user + system CPU seconds (children not included; 0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def named_pids(command: str) -> list[int]:
    """Return the ids of the processes whose command name (`/proc/<pid>/comm`) is `command`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if (entry / "comm").read_text().strip() == command:
                    pids.append(int(entry.name))
    return pids


def spent(before: Reading, after: Reading) -> dict[str, float]:
    """Return CPU seconds spent per service between two readings (a process new since counts whole)."""
    return {service: sum(cpu - before.get(service, {}).get(pid, 0.0) for pid, cpu in processes.items())
            for service, processes in after.items()}


class ServiceCpu:
    """Read the CPU of PostgreSQL (this run's backends + background processes) and RabbitMQ."""

    def __init__(self, database_url: str, run_names: Sequence[str]) -> None:
        import psycopg

        self.run_names = list(run_names)
        self.connection: Any = psycopg.connect(database_url.split("?", maxsplit=1)[0], autocommit=True)

    def read(self) -> Reading:
        """Return CPU seconds by process of `postgres` (ours + background) and `rabbitmq`."""
        rows = self.connection.execute(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND (backend_type <> 'client backend' "
            "OR EXISTS (SELECT 1 FROM unnest(%s::text[]) AS name WHERE strpos(application_name, name) > 0))",
            (self.run_names,)).fetchall()
        return {"postgres": {pid: cpu_seconds(pid) for (pid,) in rows},
                "rabbitmq": {pid: cpu_seconds(pid) for pid in named_pids("beam.smp")}}

    def close(self) -> None:
        """Close the monitoring session."""
        self.connection.close()
