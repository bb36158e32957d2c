"""Multi-process metrics under gunicorn.

In the gunicorn config file, exactly as with gds-metrics 0.2:

    from gds_metrics.gunicorn import child_exit  # noqa: F401

Importing this module in the config file (which the gunicorn master imports before it
forks any worker) prepares the directory where every worker keeps its metrics, so that
any worker answering a scrape serves the aggregate of all of them. The core's one rule
picks it (CONTRACT section 6):

- a directory named by ``PROMETHEUS_MULTIPROC_DIR``, ``prometheus_multiproc_dir`` or
  ``MMAP_DIRECTORY`` (first set wins) is used as it is, survives restarts (counters carry
  on from their totals) and is never removed;
- otherwise this server run gets a private directory,
  ``<temp dir>/gds-metrics-<uid>/<master pid>``, empty when the master starts and removed
  when it exits, so a restarted server starts its counters from zero.

Either way the directory is exported to the workers as ``PROMETHEUS_MULTIPROC_DIR``, which
``prometheus_client`` reads too, so its metrics are aggregated across workers as well, and
the master holds a file of its own there from the start, so every worker knows its master
from the first scrape: the process metrics are the whole server's even with ``-w 1``.

``child_exit`` is gunicorn's hook for a worker that has exited: the worker's numbers are
folded into the directory's totals right away, so counters never go backwards and the
number of files stays bounded however many workers come and go.
"""

from __future__ import annotations

import atexit
import os
from typing import Any

from ._native import EXPORTED_VARIABLE, ServerDirectory, fold_dead

__all__ = ["MULTIPROCESS_DIR", "child_exit"]

_SERVER = ServerDirectory.for_server(os.getpid())
os.environ[EXPORTED_VARIABLE] = os.fspath(_SERVER.dir)
atexit.register(_SERVER.finish)

MULTIPROCESS_DIR: str = os.fspath(_SERVER.dir)
"""The directory the workers of this server share."""


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: folds the files of exited workers into the totals, and tells
    ``prometheus_client`` (when installed) that the worker is gone."""
    fold_dead(MULTIPROCESS_DIR)
    try:
        from prometheus_client import multiprocess
    except ImportError:
        return
    multiprocess.mark_process_dead(worker.pid, MULTIPROCESS_DIR)
