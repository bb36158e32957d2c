"""Prometheus file-discovery target files, for service brokers written in Python.

The schema, the strict reader, the atomic store and the reconciliation are the core's,
exactly as the ``gds-metrics-targets`` tool uses them. App facts are dicts with the keys
``guid``, ``name``, ``instances``, ``route_host``, ``org``, ``space`` and optionally
``route_path`` and ``exporter``; a desired state is a list of such dicts with
``"state": "started"`` or ``"stopped"``, or ``{"guid": ..., "state": "deleted"}``.

    from gds_metrics.targets import TargetStore

    store = TargetStore("/srv/prometheus/targets")   # or "s3://bucket/prefix"
    store.reconcile([{**facts, "state": "started"}])

A store is a local directory or an S3 location, ``s3://bucket/prefix``, configured from
the usual AWS variables (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``,
``AWS_ENDPOINT_URL``, ``AWS_ALLOW_HTTP``) as the core reads them.

Bad facts, files or desired states raise ``ValueError`` naming the app, file, group and
field; failed file operations and S3 requests raise ``OSError``; an S3 write that lost a
race with another writer raises ``gds_metrics.ConflictError``.
"""

from __future__ import annotations

import json
import os
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import _native

__all__ = ["TargetStore", "read_target_file", "render_target_file", "target_groups"]

PathLike = Union[str, "os.PathLike[str]"]
TargetGroup = Dict[str, Any]


def render_target_file(app: Mapping[str, Any]) -> str:
    """The bytes (as text) of the target file for ``app``: one group per instance."""
    return _native.render_target_file(json.dumps(dict(app)))


def target_groups(app: Mapping[str, Any]) -> List[TargetGroup]:
    """The target groups of ``app``, as ``{"targets": [...], "labels": {...}}`` dicts."""
    return json.loads(render_target_file(app))


def read_target_file(path: PathLike) -> List[TargetGroup]:
    """Reads a target file as strictly as Prometheus does."""
    return json.loads(_native.read_target_file(os.fspath(path)))


class TargetStore:
    """Target files in ``active/`` for started apps (point Prometheus's
    ``file_sd_configs`` at ``active/*.json``) and ``inactive/`` for stopped ones, in a
    local directory or under ``s3://bucket/prefix``. Writes are atomic and skipped when
    the bytes are unchanged; in S3 they are conditional, so a writer working from an old
    listing gets ``ConflictError`` instead of undoing another writer's change. Nothing is
    created until something is written."""

    def __init__(self, root: PathLike) -> None:
        self._store = _native.TargetStore(os.fspath(root))

    @property
    def root(self) -> str:
        """The directory or S3 location, as given."""
        return self._store.root

    def write(
        self, folder: str, guid: str, contents: Union[str, bytes], listed: Optional[bool] = None
    ) -> str:
        """Writes ``contents`` as ``guid``'s file in ``folder`` (``"active"`` or
        ``"inactive"``); returns ``"written"`` or ``"unchanged"``. ``listed`` says whether
        the file was in the listing the caller decided from (``None``: list now); an S3
        store raises ``ConflictError`` when that is no longer so."""
        data = contents.encode() if isinstance(contents, str) else contents
        return self._store.write(folder, guid, data, listed)

    def remove(self, folder: str, guid: str) -> str:
        """Removes ``guid``'s file from ``folder``; returns ``"removed"`` or ``"absent"``."""
        return self._store.remove(folder, guid)

    def move(self, guid: str, from_folder: str) -> str:
        """Moves ``guid``'s file to the other folder in one rename; returns ``"moved"`` or
        ``"absent"``. Local directories only: S3 has no rename, so reconcile instead."""
        return self._store.move_file(guid, from_folder)

    def list(self) -> Dict[str, List[str]]:
        """The GUIDs with a file in each folder."""
        active, inactive = self._store.list()
        return {"active": active, "inactive": inactive}

    def plan(self, desired: Sequence[Mapping[str, Any]]) -> List[str]:
        """The operations that would bring the store to ``desired`` (every bound app)."""
        return self._store.plan(json.dumps([dict(app) for app in desired]))

    def reconcile(self, desired: Sequence[Mapping[str, Any]]) -> List[Tuple[str, str]]:
        """Brings the store to ``desired``: files of apps not in it are removed. When
        another writer changes an S3 store meanwhile, lists again and carries over only
        this call's own changes."""
        return self._store.reconcile(json.dumps([dict(app) for app in desired]))
