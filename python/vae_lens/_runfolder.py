"""Writing a VAE Lens run folder (docs/run-format.md), with the format's durability rules:
metrics.jsonl gets one whole line per record, flushed and fsync'ed; run.json, summary.json and
images.json are replaced atomically (temporary file, fsync, rename), so a process killed at any
moment leaves a folder the viewers read."""
from __future__ import annotations

import datetime as _dt
import json
import os
import re
from typing import Any, Dict, Mapping, Optional

from ._record import json_safe
from .errors import VaeLensInputError

FORMAT_VERSION = 1
#: The environment variable through which the editor and `vae-lens train` hand a script its run folder.
RUN_DIR_ENV = "VAE_LENS_RUN_DIR"
#: The spec that started the script, when the editor or the CLI did.
SPEC_ENV = "VAE_LENS_SPEC"

RUN_STATUSES = ("running", "completed", "stopped", "failed", "diverged")


def process_start(pid: int) -> Optional[str]:
    """A process's start as its machine counts it, ``BOOT_ID:TICKS`` (Linux's boot id and the clock ticks from that
    boot to the start): with the pid it names one process whatever any clock says, so a reader tells a pid handed out
    again from the run's writer. None where the system does not tell."""
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="latin-1") as f:
            boot = f.read().strip()
        with open(f"/proc/{pid}/stat", encoding="latin-1") as f:
            # After the command name in parentheses (which may hold both), field 3 on; the start is field 22.
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None
    return f"{boot}:{ticks}" if boot else None


def now_iso() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dumps(value: Any) -> str:
    return json.dumps(json_safe(value), allow_nan=False, separators=(",", ":"))


def write_json_atomic(path: str, value: Any) -> None:
    """Replace `path` whole (a temporary file, fsync'ed, renamed over it); what stands in its way is named."""
    if os.path.isdir(path) and not os.path.islink(path):
        raise VaeLensInputError(f"cannot write {path}: a folder of that name is in the way; remove it, or give the run another folder")
    tmp = f"{path}.tmp-{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(_dumps(value))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as e:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise VaeLensInputError(f"cannot write {path}: {e.strerror or e}") from None


def read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8-sig") as f:
            v = json.load(f)
        return v if isinstance(v, dict) else None
    except (OSError, ValueError):
        return None


def new_run_dir(runs_dir: str, name: str) -> str:
    """`<runs_dir>/<name>-<YYYYMMDD-HHMMSS>`, made unique with a counter if that exists."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    # At most 60 characters of the name, as VAE Lens's own trainer cuts it: a name of a few hundred
    # (a whole configuration) would pass the file system's 255-byte limit on a folder's name.
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:60].rstrip("-") or "run"
    base = os.path.join(runs_dir, f"{safe}-{stamp}")
    path, k = base, 1
    while True:
        try:
            os.makedirs(path)
            return path
        except FileExistsError:
            k += 1
            path = f"{base}-{k}"


class RunFolder:
    """One run folder, written by one process (rank 0)."""

    def __init__(self, path: str) -> None:
        self.path = path
        os.makedirs(path, exist_ok=True)
        self._metrics = open(os.path.join(path, "metrics.jsonl"), "a", encoding="utf-8")

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    def existing_meta(self) -> Optional[Dict[str, Any]]:
        """run.json as the editor or the CLI wrote it before starting the script, if they did."""
        return read_json(self.file("run.json"))

    def write_meta(self, meta: Mapping[str, Any]) -> None:
        write_json_atomic(self.file("run.json"), dict(meta))

    def append_record(self, record: Mapping[str, Any]) -> None:
        self._metrics.write(_dumps(dict(record)) + "\n")
        self._metrics.flush()
        os.fsync(self._metrics.fileno())

    def write_summary(self, summary: Mapping[str, Any]) -> None:
        write_json_atomic(self.file("summary.json"), dict(summary))

    def write_images(self, images: Mapping[str, Any]) -> None:
        write_json_atomic(self.file("images.json"), dict(images))

    def close(self) -> None:
        if not self._metrics.closed:
            self._metrics.close()
