"""Multi-process metrics under gunicorn.

In the gunicorn config file, exactly as with gds-metrics 0.2:

    from gds_metrics.gunicorn import child_exit  # noqa: F401

Importing this module in the config file (which the gunicorn master imports before it
forks any worker) prepares the directory where every worker keeps its metrics, so that
any worker answering a scrape serves the aggregate of all of them:

- if ``PROMETHEUS_MULTIPROC_DIR`` (or ``prometheus_multiproc_dir``) is set, that
  directory is used as it is;
- otherwise a fresh, private directory is made for this server, handed to the workers
  through ``PROMETHEUS_MULTIPROC_DIR``, and removed when the master exits, so a restarted
  server never shows the previous run's numbers.

``child_exit`` is gunicorn's hook for a worker that has exited: the worker's numbers are
folded into the directory's totals right away, so counters never go backwards and the
number of files stays bounded however many workers come and go.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from typing import Any

from ._native import fold_dead

__all__ = ["MULTIPROCESS_DIR", "child_exit"]

_VARIABLES = ("PROMETHEUS_MULTIPROC_DIR", "prometheus_multiproc_dir")


def _remove_if_master(directory: str, master_pid: int) -> None:
    # Workers are forked from the master and inherit this exit hook; only the master,
    # which outlives them all, may remove the directory.
    if os.getpid() == master_pid:
        shutil.rmtree(directory, ignore_errors=True)


def _prepare_directory() -> str:
    for name in _VARIABLES:
        given = os.environ.get(name)
        if given:
            return given
    directory = tempfile.mkdtemp(prefix="gds-metrics-gunicorn-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    atexit.register(_remove_if_master, directory, os.getpid())
    return directory


MULTIPROCESS_DIR: str = _prepare_directory()
"""The directory the workers of this server share."""


def child_exit(server: Any, worker: Any) -> None:
    """gunicorn hook: folds the files of exited workers into the totals."""
    fold_dead(MULTIPROCESS_DIR)
