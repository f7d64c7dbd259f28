"""Background imports for the web UI, with progress a page can poll.

Why threads and memory: an upload page must answer at once and show progress; one import at a
time per node is the common case, and the batch itself (with its reconciliation) is written to
the database, so losing this in-memory progress on a restart loses nothing but the spinner.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from concord.errors import ConcordError, NotFoundError
from concord.ingest.pipeline import IngestReport

#: Finished jobs kept for their pages; older ones are forgotten (their batches are not).
KEEP_FINISHED = 50


@dataclass
class Job:
    id: str
    label: str
    state: str = "queued"  # queued | running | done | failed
    rows: int = 0
    report: IngestReport | None = None
    error: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class JobRunner:
    """Runs imports in daemon threads and remembers their progress."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def start(self, label: str, work: Callable[[Callable[[int], None]], IngestReport]) -> Job:
        job = Job(id=uuid.uuid4().hex, label=label)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()

        def progress(rows: int) -> None:
            job.rows = rows

        def run() -> None:
            job.state = "running"
            try:
                job.report = work(progress)
                job.rows = job.report.rows_read
                job.state = "done"
            except ConcordError as exc:
                job.error = str(exc)
                job.state = "failed"
            except Exception as exc:  # a page must show any failure, never spin forever
                job.error = f"unexpected error: {type(exc).__name__}: {exc}"
                job.state = "failed"

        threading.Thread(target=run, name=f"concord-import-{job.id[:8]}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(f"no import job {job_id!r} (jobs are forgotten on restart)")
        return job

    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
        for job in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]
