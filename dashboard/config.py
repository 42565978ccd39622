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
    "O2R_SHRINK_THRESHOLD": "a tracker snapshot with fewer referrals than this share of the "
    "snapshot before it is refused unless the uploader confirms it (default: 0.8, i.e. 80%; "
    "0 turns the check off)",
    "O2R_CONTACT_REFERENCE_DAYS": "days a referral may wait for first contact before "
    "\"My work\" counts it as waiting too long (default: 21)",
    "O2R_ASSESSED_STALL_DAYS": "days after a police assessment with no pre-admission course or "
    "rehab admission before \"My work\" lists the referral (default: 28)",
    "O2R_REHAB_DAYS": "days in rehab with no exit recorded before \"My work\" lists the "
    "referral (default: 84, i.e. 12 weeks)",
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


def shrink_threshold() -> float:
    """The share of the previous snapshot's referrals a new snapshot may not fall below."""
    text = os.environ.get("O2R_SHRINK_THRESHOLD", "0.8").strip()
    try:
        share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        share = -1.0
    if not 0 <= share <= 1:
        raise ValueError(f"O2R_SHRINK_THRESHOLD is {text!r}: set it to a share between 0 and 1 "
                         "(e.g. 0.8) or a percentage (e.g. 80%)")
    return share


WORK_THRESHOLD_DEFAULTS = {"O2R_CONTACT_REFERENCE_DAYS": 21, "O2R_ASSESSED_STALL_DAYS": 28,
                           "O2R_REHAB_DAYS": 84}


def work_threshold(name: str) -> int:
    """A "My work" threshold in whole days, from the environment or its default."""
    text = os.environ.get(name, str(WORK_THRESHOLD_DEFAULTS[name])).strip()
    if not text.isdigit():
        raise ValueError(f"{name} is {text!r}: set it to a whole number of days (e.g. "
                         f"{WORK_THRESHOLD_DEFAULTS[name]})")
    return int(text)
