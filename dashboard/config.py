"""Settings: a small block of plain data with defaults, each overridable by environment."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = ROOT / "queries"
DEMO_DIR = ROOT / "data" / "demo"

SETTINGS_HELP = {
    "O2R_DB": "path of the DuckDB database file (default: data/o2r.duckdb)",
    "O2R_MAX_UPLOAD_MB": "largest upload accepted, in megabytes (default: 250)",
    "O2R_COLUMN_MAP": "TOML file mapping a force's own column headers and values to ours "
    "(default: column_map.toml in the project folder, if present)",
}


def db_path(override: str | os.PathLike | None = None) -> Path:
    """The database file to use: an explicit path, else $O2R_DB, else data/o2r.duckdb."""
    chosen = override or os.environ.get("O2R_DB") or ROOT / "data" / "o2r.duckdb"
    return Path(chosen).expanduser().resolve()


def max_upload_bytes() -> int:
    """The size limit for one uploaded file, in bytes."""
    return int(float(os.environ.get("O2R_MAX_UPLOAD_MB", "250")) * 1024 * 1024)


def column_map_path() -> Path | None:
    """The header/value mapping file, if one is configured or present."""
    configured = os.environ.get("O2R_COLUMN_MAP")
    if configured:
        return Path(configured).expanduser()
    default = ROOT / "column_map.toml"
    return default if default.exists() else None
