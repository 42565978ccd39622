"""Settings: one list of plain data (name, default, meaning, how to read it), read in one place.

Each is overridable by the environment variable of the same name and read when it is used,
so an administrator's change applies without a restart. The README's Settings table is this
list (tests/test_settings.py holds them together)."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES_DIR = ROOT / "queries"
DEMO_DIR = ROOT / "data" / "demo"


def whole_number(text: str) -> int:
    """A whole number above zero ("2048", or "512.5" read as 512)."""
    number = float(text)
    if number < 1 or number != number:
        raise ValueError("it must be a whole number above zero")
    return int(number)


def positive_number(text: str) -> float:
    number = float(text)
    if not number > 0:
        raise ValueError("it must be a number above zero")
    return number


def share(text: str) -> float:
    """A share between 0 and 1, or a percentage ("0.8" or "80%")."""
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    if not 0 <= value <= 1:
        raise ValueError("set it to a share between 0 and 1 (e.g. 0.8) or a percentage "
                         "(e.g. 80%)")
    return value


def days(text: str) -> int:
    if not text.isdigit():
        raise ValueError("set it to a whole number of days")
    return int(text)


def path(text: str) -> Path:
    return Path(text).expanduser()


def yes_no(text: str) -> bool:
    answer = text.casefold()
    if answer not in ("yes", "no", "true", "false", "on", "off", "1", "0"):
        raise ValueError("set it to yes or no")
    return answer in ("yes", "true", "on", "1")


@dataclass(frozen=True)
class Setting:
    name: str
    default: object        # None: no default (the function that reads it decides)
    meaning: str
    read: Callable[[str], object] = str
    # An upload limit set to nonsense falls back on its default rather than refuse every
    # upload, and building the pack ahead on its default rather than stop every page; every
    # other mistyped setting fails loudly, naming itself.
    lenient: bool = False

    def shown_default(self) -> str:
        if isinstance(self.default, bool):
            return "yes" if self.default else "no"
        if isinstance(self.default, int):
            return f"{self.default:,}"
        return str(self.default)


SETTINGS = [
    Setting("O2R_DB", "data/o2r.duckdb", "the DuckDB database file (or `--db`)", path),
    Setting("O2R_SECURITY_DB", "data/o2r-security.sqlite",
            "the SQLite file of users and the access log", path),
    Setting("O2R_COLUMN_MAP", "column_map.toml if present",
            "TOML file mapping a force's own headers and terms to ours", path),
    Setting("O2R_MAX_UPLOAD_MB", 250, "largest upload accepted, in MB", positive_number),
    Setting("O2R_SHRINK_THRESHOLD", 0.8, "a tracker snapshot with fewer referrals than this "
            "share of the one before is stored only when confirmed (`0` turns it off)", share),
    Setting("O2R_CONTACT_REFERENCE_DAYS", 21, "days a referral may wait for first contact "
            "before My work counts it as waiting too long", days),
    Setting("O2R_ASSESSED_STALL_DAYS", 28, "days after assessment with no course or admission "
            "before My work lists a referral", days),
    Setting("O2R_REHAB_DAYS", 84, "days in rehab with no exit recorded before My work lists "
            "a referral", days),
    Setting("O2R_LOCKOUT_ATTEMPTS", 5, "failed sign-ins in a row that lock a name",
            whole_number),
    Setting("O2R_LOCKOUT_MINUTES", 15, "how long a lock lasts", whole_number),
    Setting("O2R_SESSION_IDLE_MINUTES", 30, "minutes without a click that end a session",
            whole_number),
    Setting("O2R_DOWNLOAD_URL_SECONDS", 30, "seconds after a download is made by which its "
            "`/media` address has stopped working (it works for at least half that)",
            whole_number),
    Setting("O2R_MAX_COLUMNS", 500, "most columns an upload may have", whole_number, True),
    Setting("O2R_MAX_CELL_KB", 128, "largest cell an upload may have, in KB", whole_number,
            True),
    Setting("O2R_XLSX_MAX_ROWS", 200_000, "most rows in a workbook's first sheet (counted "
            "before it is read)", whole_number, True),
    Setting("O2R_XLSX_MAX_ENTRIES", 10_000, "most parts inside a workbook", whole_number, True),
    Setting("O2R_XLSX_MAX_UNCOMPRESSED_MB", 500, "largest a workbook may be once unpacked, "
            "in MB", whole_number, True),
    Setting("O2R_XLSX_MAX_RATIO", 200, "highest compression ratio of a large part (a "
            "zip-bomb check)", positive_number, True),
    Setting("O2R_XLSX_TIMEOUT_S", 60, "seconds the workbook reader may run", positive_number,
            True),
    Setting("O2R_XLSX_MEMORY_MB", 2048, "memory the workbook reader may use, in MB",
            whole_number, True),
    Setting("O2R_PACK_AHEAD", True, "build the latest quarter's circulated pack in the "
            "background when new data is first opened, so the first viewer of the pack does not "
            "wait for it (yes or no)", yes_no, True),
    Setting("O2R_TEST_SLOWNESS", "measured", "tests only: a factor for the browser tests' "
            "waits (default: measured from the machine's load)", positive_number),
]
BY_NAME = {s.name: s for s in SETTINGS}


def setting(name: str) -> object:
    """The setting's value: the environment's if set, else its default (None if it has none
    that can be read)."""
    known = BY_NAME[name]
    text = os.environ.get(name, "").strip()
    if not text:
        return known.default if not isinstance(known.default, str) else None
    try:
        return known.read(text)
    except ValueError as error:
        if known.lenient:
            return known.default
        detail = str(error) if "could not convert" not in str(error) else \
            f"it must be like {known.shown_default()}"
        raise ValueError(f"{name} is {text!r}: {detail}") from None


def help_text(name: str) -> str:
    """One line for a command-line option: the meaning and the default."""
    known = BY_NAME[name]
    return f"{known.meaning} (default: {known.shown_default()}; ${name})"


def db_path(override: str | os.PathLike | None = None) -> Path:
    """The database file to use: an explicit path, else $O2R_DB, else data/o2r.duckdb."""
    chosen = override or setting("O2R_DB") or ROOT / "data" / "o2r.duckdb"
    return resolved(chosen)


def resolved(path: str | os.PathLike) -> Path:
    """The path made absolute, with ~ and symbolic links resolved, as Path.resolve would."""
    return _resolved(str(path), os.getcwd())


# Asked several times on every rerun of every session (the database and security files):
# resolving the path each time (a system call per part) was a millisecond of every page.
@functools.lru_cache(maxsize=64)
def _resolved(path: str, cwd: str) -> Path:  # cwd: a relative path resolves against it
    return Path(path).expanduser().resolve()


def max_upload_bytes() -> int:
    """The size limit for one uploaded file, in bytes."""
    return int(setting("O2R_MAX_UPLOAD_MB") * 1024 * 1024)


def column_map_path() -> Path | None:
    """The header/value mapping file, if one is configured or present."""
    configured = setting("O2R_COLUMN_MAP")
    if configured:
        return configured
    default = ROOT / "column_map.toml"
    return default if default.exists() else None


def shrink_threshold() -> float:
    """The share of the previous snapshot's referrals a new snapshot may not fall below."""
    return setting("O2R_SHRINK_THRESHOLD")


def work_threshold(name: str) -> int:
    """A "My work" threshold in whole days, from the environment or its default."""
    return setting(name)
