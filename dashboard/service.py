"""What the app and the command line do with data: upload a file, build the demo database."""

from __future__ import annotations

import datetime as dt
import importlib.util
import shutil
import sys
import tempfile
from pathlib import Path

from dashboard import config, fast_csv, store
from dashboard.ingest import IngestReport, UploadRejected, prepare

DEMO_UPLOADER = "demo (synthetic data)"


def ingest_bytes(db: Path, kind: str, file_name: str, data: bytes | Path,
                 as_at: dt.date | None = None, uploaded_by: str | None = None,
                 map_file: Path | None = None, use_column_map: bool = True,
                 is_demo: bool = False, allow_shrink: bool = False) -> IngestReport:
    """Validate and store one export (its bytes, or the file on disk); raises UploadRejected
    (nothing changed) with the report.

    allow_shrink: the uploader confirmed a tracker snapshot much smaller than the one before.
    A clean file read by the fast path is staged (its contract columns only) in a private
    folder, removed when the upload is stored or refused.
    """
    staging, prepared = fast_csv.new_staging_folder(), None
    try:
        prepared = prepare(kind, file_name, data, as_at=as_at, map_file=map_file,
                           use_column_map=use_column_map, staging=staging)
        prepared.is_demo = is_demo
        try:
            store.store_upload(db, prepared, uploaded_by, allow_shrink=allow_shrink)
        except store.DuplicateUpload:
            pass  # the report says which upload it repeats
        return prepared.report
    finally:
        if prepared is not None and prepared.staged is not None:
            prepared.staged.close()
        shutil.rmtree(staging, ignore_errors=True)


def ingest_path(db: Path, kind: str, path: Path, **kwargs) -> IngestReport:
    """As ingest_bytes, reading the file where it is (a clean CSV is never read whole)."""
    return ingest_bytes(db, kind, path.name, path, **kwargs)


def load_demo_generator():
    spec = importlib.util.spec_from_file_location("o2r_demo_generator",
                                                  config.ROOT / "data" / "generate_demo.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def build_demo(db: Path) -> list[IngestReport]:
    """Store the synthetic demo exports (every snapshot, then Connect) through normal ingest."""
    with tempfile.TemporaryDirectory() as folder:
        files = load_demo_generator().generate(Path(folder))
        return [ingest_path(db, f.kind, f.path, as_at=f.as_at, uploaded_by=DEMO_UPLOADER,
                            is_demo=True, use_column_map=False)
                for f in files]


def ensure_database(db: Path) -> bool:
    """Build the demo database if there is none; True if it was built now."""
    if db.exists():
        return False
    # Two processes starting at once both build it; the demo files are identical bytes, so
    # the second one's uploads are recognised as repeats and change nothing.
    build_demo(db)
    return True


__all__ = ["UploadRejected", "build_demo", "ensure_database", "ingest_bytes", "ingest_path"]
