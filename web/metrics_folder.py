"""The Prometheus multiprocess folder of a desk's web processes. This module imports no
prometheus_client: the folder must be in the environment before that library is first imported."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_folder(data_dir: str, queue_name: str) -> Path:
    """The desk's multiprocess folder on this machine: under the system's temp folder, named after
    the desk's data folder and queue, so two desks never mix and every process of one desk meets."""
    key = hashlib.sha256(f"{Path(data_dir).resolve()}\0{queue_name}".encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"relaydesk-metrics-{key}"


def prepare_metrics_folder(folder: Path) -> None:
    """Make the folder and remove the files of processes that no longer run (a previous `serve`);
    those of a live process (another `serve` of the same desk on this machine) stay."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in folder.glob("*.db"):
        pid = path.stem.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def use_metrics_folder(data_dir: str, queue_name: str) -> Path:
    """Point this process and the web processes it starts at the desk's folder (unless the operator
    chose one with PROMETHEUS_MULTIPROC_DIR) and clear what dead processes left in it."""
    folder = Path(os.environ.get(MULTIPROC_ENV) or metrics_folder(data_dir, queue_name))
    prepare_metrics_folder(folder)
    os.environ[MULTIPROC_ENV] = str(folder)
    return folder
