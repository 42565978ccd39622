"""The filter bar: drawn by the entry script on the pages that read it, kept across pages
(also those without it: the widgets' state is kept for the session) and in the URL."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import streamlit as st

from dashboard.analysis.periods import ALL_TIME, Period, quick_picks
from dashboard.security import data_access
from dashboard.store import queries
from dashboard.ui import text

ALL = "All"
CUSTOM = "Custom dates"
URL_KEYS = ("period", "from", "to", "officer", "area", "source")
FILTER_WIDTH = 220  # pixels: four fit in a row on a laptop; on a phone they stack


@dataclass(frozen=True)
class Filters:
    period: Period
    officer: str | None
    area: str | None
    referral_source: str | None

    def params(self, *names: str) -> dict:
        """The query parameters among `names` that these filters set."""
        values = {"from_date": self.period.start, "to_date": self.period.end,
                  "officer": self.officer, "area": self.area,
                  "referral_source": self.referral_source}
        return {name: values[name] for name in names}

    def for_query(self, name: str) -> dict:
        """Every filter the named query takes, so each page applies all that fit."""
        return self.params(*[p for p in queries.parameters(name)
                             if p in ("from_date", "to_date", "officer", "area",
                                      "referral_source")])

    def describe(self) -> str:
        parts = [self.period.label]
        parts += [f"{what}: {value}" for what, value in (
            ("officer", self.officer), ("area", self.area), ("source", self.referral_source))
            if value]
        return "; ".join(parts)


def _options() -> dict[str, list[str]]:
    return data_access.per_data(_by_field)


def _by_field(viewer, read) -> dict[str, list[str]]:
    frame = read("filter_options")
    return {field: list(group["value"]) for field, group in frame.groupby("field")}


def _url_default(key: str, choices: list[str], title: str, unavailable: list[str]) -> int:
    """The choice the URL names; one not among the choices (a quarter gone with a withdrawn
    snapshot, a link from someone who sees other data) is noted in `unavailable`, so the page
    says it shows the first choice instead rather than changing the view without a word."""
    value = st.query_params.get(key)
    if value in choices:
        return choices.index(value)
    if value:
        # Shown as Markdown: text from a link, so never read as Markdown (a link or image).
        unavailable.append(f"{title} “{text.plain(value)}”")
    return 0


def sidebar() -> Filters:
    """Draw the filters in a bar at the top of the page and return the choice; mirrors it into
    the URL. At the top of the main area, not in the sidebar: after "Skip to main content"
    the Period filter is the next Tab (in the sidebar it came after every page link, about 15
    presses), and on a phone they show without opening the sidebar."""
    options = _options()
    if "first_referral_date" not in options:
        return Filters(ALL_TIME, None, None, None)
    first = dt.date.fromisoformat(options["first_referral_date"][0])
    last = dt.date.fromisoformat(options["last_referral_date"][0])
    picks = quick_picks(first, last)
    labels = [p.label for p in picks] + [CUSTOM]
    unavailable: list[str] = []
    with st.container(horizontal=True, key="filter_bar"):
        label = st.selectbox("Period", labels,
                             index=_url_default("period", labels, "Period", unavailable),
                             key="filter_period", width=FILTER_WIDTH, persist_state="session",
                             help="UK financial years (April to March) and their quarters")
        if label == CUSTOM:
            # A link whose dates are the wrong way round means the same dates: as given, every
            # page read it as an empty period and said no referrals matched.
            start, end = sorted((_url_date("from", first), _url_date("to", last)))
            chosen = st.date_input("From and to", value=(start, end), format="DD/MM/YYYY",
                                   key="filter_dates", width=FILTER_WIDTH,
                                   persist_state="session")
            if isinstance(chosen, tuple) and len(chosen) == 2:
                start, end = chosen
            period = Period(f"{start:%d/%m/%Y} to {end:%d/%m/%Y}", start, end)
        else:
            period = picks[labels.index(label)]
        officer = _choice("Officer", options.get("officer", []), "officer", unavailable)
        area = _choice("Offending area", options.get("area", []), "area", unavailable)
        source = _choice("Referral source", options.get("referral_source", []), "source",
                         unavailable)
    if unavailable:
        st.warning(f"{' and '.join(unavailable)} {'is' if len(unavailable) == 1 else 'are'} "
                   "not among the choices now (a tracker snapshot may have been withdrawn, or "
                   "the link came from someone who sees other data), so the filters above "
                   "show All time or All instead.", icon=":material/warning:")
    filters = Filters(period, officer, area, source)
    _to_url(label, filters)
    return filters


def _choice(title: str, values: list[str], url_key: str, unavailable: list[str]
            ) -> str | None:
    choices = [ALL, *values]
    picked = st.selectbox(title, choices,
                          index=_url_default(url_key, choices, title, unavailable),
                          key=f"filter_{url_key}", width=FILTER_WIDTH, persist_state="session")
    return None if picked == ALL else picked


def _url_date(key: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(st.query_params.get(key, ""))
    except ValueError:
        return default


def _to_url(label: str, filters: Filters) -> None:
    wanted = {"period": label, "officer": filters.officer, "area": filters.area,
              "source": filters.referral_source}
    if label == CUSTOM:
        wanted["from"] = filters.period.start.isoformat()
        wanted["to"] = filters.period.end.isoformat()
    wanted = {k: v for k, v in wanted.items() if v and v != ALL_TIME.label}
    current = {k: st.query_params.get(k) for k in URL_KEYS if k in st.query_params}
    if current != wanted:
        st.query_params.from_dict(wanted)


def current() -> Filters:
    """The filters chosen in the sidebar on this run."""
    return st.session_state.get("filters") or Filters(ALL_TIME, None, None, None)
