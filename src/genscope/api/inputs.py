"""What the collection half reads: records (and a scan's summary), calibration, dedup's copies; bad input is an
``InputError`` naming the command that makes what is missing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from genscope.errors import InputError

if TYPE_CHECKING:
    from genscope.analyses.batches import Records
    from genscope.analyses.quantify import Calibration


def open_records(target: str | Path | pa.Table) -> Records:
    """Records from a scan folder, a records folder or one Parquet file, or a table already in memory, to read in
    batches."""
    from genscope.analyses.batches import Records

    if isinstance(target, pa.Table):
        return Records.of(target)
    path = records_path(target)
    try:
        records = Records.of(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"cannot read records from {target}: {exc}") from None
    if "path" not in records.columns or "error" not in records.columns:
        raise InputError(f"{target} does not hold genscope records (no path/error columns)")
    return records


def scan_summary(target: str | Path | pa.Table, counts: dict[str, Any]) -> dict[str, Any]:
    """The overview's ``counts`` of the records, with what the scan that wrote them said about itself (where its
    ``summary.json`` is beside them: a table in memory, a bare part or a records folder copied alone has none)."""
    if isinstance(target, pa.Table):
        return counts
    path = Path(target)
    summary_file = path / "summary.json" if path.is_dir() else path.parent / "summary.json"
    summary = json.loads(summary_file.read_text()) if summary_file.is_file() else {}
    return counts | {k: v for k, v in summary.items() if k in ("signals", "timing", "inputs_named", "genscope_version")}


def records_path(target: str | Path) -> Path:
    """The target as a path, once it is known to exist and to hold records (not to be a folder of images)."""
    path = Path(target)
    if not path.exists():
        raise InputError(f"no such file or folder: {target}")
    if not _holds_records(path):
        raise InputError(f"{target} holds no genscope records: run `genscope scan {target} --out SCAN_DIR` first and "
                         "give SCAN_DIR")
    return path


def _holds_records(path: Path) -> bool:
    """A scan folder, a records folder or a Parquet file; not a folder of images."""
    from genscope.records import RECORDS_NAME

    if path.is_file():
        return path.suffix.lower() in (".parquet", ".pq")
    return (path / RECORDS_NAME).is_dir() or any(path.glob("*.parquet"))


def load_calibration(path: str | Path | None) -> Calibration | None:
    """Labelled held-out detector scores from an ``.npz``; None: the ones shipped with the default detector."""
    from genscope.analyses.audit import default_calibration
    from genscope.analyses.quantify import Calibration

    if path is None:
        return default_calibration()
    try:
        return Calibration.load(path)
    except (OSError, KeyError, ValueError) as exc:
        raise InputError(f"cannot read calibration {path}: {exc}") from None


def duplicate_copies(dedup_dir: str | Path) -> set[str]:
    """Paths `genscope dedup` marked as copies to drop (every group member but its representative)."""
    import pyarrow.parquet as pq

    groups = Path(dedup_dir) / "groups.parquet"
    if not groups.is_file():
        raise InputError(f"no groups.parquet in {dedup_dir}: run `genscope dedup PATH --out {dedup_dir}` first")
    table = pq.read_table(groups, columns=["path", "keep"])
    return {path for path, keep in zip(table.column("path").to_pylist(), table.column("keep").to_pylist(),
                                       strict=True) if not keep}
