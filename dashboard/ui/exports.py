"""CSV downloads that a spreadsheet cannot mistake for formulas, given out only when logged."""

from __future__ import annotations

import logging
import threading
import time
import unicodedata
from collections.abc import Callable

import pandas as pd

from dashboard import config
from dashboard.security import audit
from dashboard.security.audit import Action, Who
from dashboard.security.security_file import security_db_path

log = logging.getLogger(__name__)

# What Excel, LibreOffice and Google Sheets start a formula with (OWASP's list). NFKC folds the
# full-width and small forms (＝ ＋ － ＠, ﹦ ﹢ ﹣ ﹫) onto these; U+2212 is the minus sign.
FORMULA_STARTS = frozenset("=+-@\u2212")
# A tab or carriage return at the very start is OWASP's advice whatever follows it.
CONTROL_STARTS = ("\t", "\r")
# Blanks a spreadsheet may skip before the first character it reads: spaces of every kind
# (str.isspace) and the zero-width ones.
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"


def neutralise(value: object) -> object:
    """Text that a spreadsheet would run as a formula gets a leading apostrophe, including
    after leading blanks and in full-width forms. Anything not text is returned as it is."""
    if not isinstance(value, str):
        return value
    if value.startswith(CONTROL_STARTS):
        return "'" + value
    first = next((c for c in value if not (c.isspace() or c in ZERO_WIDTH)), "")
    if unicodedata.normalize("NFKC", first)[:1] in FORMULA_STARTS:
        return "'" + value
    return value


def neutralised(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of the frame with every text cell and column name passed through neutralise."""
    safe = frame.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(c)) for c in safe.columns]
    return safe


def safe_csv(frame: pd.DataFrame) -> bytes:
    """The frame as UTF-8 CSV (with BOM, so Excel reads £ correctly), text neutralised."""
    return neutralised(frame).to_csv(index=False).encode("utf-8-sig")


def logged_csv(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, who: str,
               role: str | None, filters: object = None) -> Callable[[], bytes]:
    """The CSV of the frame (or of the frame a function makes), to be given out by calling the
    returned function (logged_file): built on the click, not on every rerun of the page that
    shows the button."""
    return logged_file(lambda: safe_csv(frame() if callable(frame) else frame), f"{name}.csv",
                       who, role, filters)


def logged_file(make: Callable[[], bytes], file_name: str, who: str, role: str | None,
                filters: object = None) -> Callable[[], bytes]:
    """The file `make` returns, to be given out by calling the returned function, which first
    records the export in the access log (raising AccessLogError, so nothing is given out,
    if it cannot). For st.download_button's data, with on_click="ignore": Streamlit calls it
    when the button is clicked, so no download URL exists before then and each click is one
    log entry."""
    log_path = security_db_path()

    def give_out() -> bytes:
        audit.record(Who(who, role), Action.EXPORT, target=file_name, filters=filters,
                     path=log_path)
        made = make()
        # Counted from now, when the file exists: a pack can take seconds to make.
        HANDED_OVER_FILES.lapse_within(config.setting("O2R_DOWNLOAD_URL_SECONDS"))
        return made

    return give_out


class Lapse:
    """Makes the files behind downloads' /media/... URLs lapse.

    Streamlit serves such a URL to anyone who has it, with no session or sign-in, and keeps
    the file until two of its clean-up passes (the end of any script run, the end of any
    session) have passed since no session showed it; on a quiet server that can be hours,
    well after the session that made it ended. So while a file handed over in the last
    `lifetime` seconds may still be stored, this runs one pass every half lifetime. A pass
    marks a file that no session shows and deletes it at the next pass, so a file lasts from
    half a lifetime (time for a busy browser to fetch it) to a whole one after it was made.
    Running both passes at once, a timer per download, would also delete a file another
    click had made a moment before. Streamlit's own passes still run as well, and can take
    a file sooner, as they would without this."""

    def __init__(self, sweep: Callable[[], None], clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 start: Callable[[Callable[[], None]], None] | None = None) -> None:
        self._sweep, self._clock, self._sleep = sweep, clock, sleep
        self._start = start or (lambda run: threading.Thread(target=run, daemon=True).start())
        self._lock = threading.Lock()
        self._sweeping = False
        self._period = 0.0
        self._until = 0.0

    def lapse_within(self, lifetime: float) -> None:
        """A file was just handed over: it must be gone within `lifetime` seconds."""
        with self._lock:
            # One more period: Streamlit stores the file just after give_out returns.
            self._until = max(self._until, self._clock() + lifetime + lifetime / 2)
            self._period = lifetime / 2
            if self._sweeping:
                return
            self._sweeping = True
        self._start(self._run)

    def _run(self) -> None:
        while True:
            with self._lock:
                period = self._period
            self._sleep(period)
            try:
                self._sweep()
            except Exception:  # the next pass tries again; the server log has this one
                log.exception("a clean-up pass over handed-over downloads failed")
            with self._lock:
                if self._clock() >= self._until:
                    self._sweeping = False
                    return


def sweep_handed_over_files() -> None:
    """One of Streamlit's clean-up passes over its stored media files."""
    from streamlit import runtime  # only in the app: the command line has no Streamlit runtime

    if runtime.exists():
        runtime.get_instance().media_file_mgr.remove_orphaned_files()


HANDED_OVER_FILES = Lapse(sweep_handed_over_files)
