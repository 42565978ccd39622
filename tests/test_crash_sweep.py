"""No page crashes: for each role, every page in its navigation under every Period entry,
every officer, area and referral source it is offered, and every option of each radio, on the
demo data and on a data set of another shape (one officer, one quarter, no Connect upload).

One AppTest per role and data set, reused across pages and options, keeps it cheap."""

from __future__ import annotations

import datetime as dt
import logging
import re

import pandas as pd
import pytest
import streamlit.logger as streamlit_logger
from streamlit.testing.v1 import AppTest

from dashboard import service
from dashboard.security import access

from conftest import DEMO

# Every radio's options as the page's code knows them (AppTest shows only their labels); a
# radio missing here fails the sweep, so a new one cannot go unswept.
RADIOS = {
    "overview_cohort": ["referrals", "assessments"],
    "journey_view": ["referrals", "assessments"],
    "source_rate": ["Entered rehab", "Assessed", "Completed 12 weeks"],
    "people_basis": ["scenario", "n_completions", "n_rehab_entrants"],
    "retention_split": ["none", "rehab_facility", "pre_admission_course"],
    "pack_scheme": ["financial", "calendar"],
    "pack_disclosure": ["controlled", "exact"],
}


def run_clean(at: AppTest, what: str) -> None:
    at.run()
    assert not at.exception, (what, [e.value for e in at.exception])
    assert not at.error, (what, [e.value for e in at.error])
    assert at.title, what
    shown = at.get("vega_lite_chart") or at.get("echarts_chart") or at.dataframe or at.metric
    words = [e.value for e in at.info] + [e.value for e in at.warning] + \
        [m.value for m in at.markdown]
    assert shown or words, (what, "an empty result is said in words")
    for button in at.get("download_button"):
        # Handed over on the click with no rerun (layout.logged_download), and nothing
        # rendered into the page before it.
        assert button.proto.ignore_rerun and not button.proto.url, (what, button.proto.label)


def sweep(at: AppTest, role: str) -> int:
    """Every page of the role under every filter value and radio option; runs made."""
    runs = 0
    pages = [stem for stem in PAGE_ORDER if stem in access.CAPABILITIES[role].pages]
    for page in pages:
        at.switch_page(f"../pages/{page}.py")
        run_clean(at, (role, page))
        runs += 1
        if access.CAPABILITIES[role].filters and page in access.FILTERED_PAGES:
            period = at.selectbox(key="filter_period")
            officers = at.selectbox(key="filter_officer").options
            areas = at.selectbox(key="filter_area").options
            sources = at.selectbox(key="filter_source").options
            for label in period.options:
                if label == "Custom dates":
                    continue
                at.selectbox(key="filter_period").select(label)
                run_clean(at, (role, page, label))
                runs += 1
            at.selectbox(key="filter_period").select(period.options[0])
            count = max(len(officers), len(areas))
            for index in range(count):
                # each officer and each area at least once, and pairs of the two
                at.selectbox(key="filter_officer").select(officers[index % len(officers)])
                at.selectbox(key="filter_area").select(areas[index % len(areas)])
                run_clean(at, (role, page, officers[index % len(officers)],
                               areas[index % len(areas)]))
                runs += 1
            at.selectbox(key="filter_officer").select("All")
            at.selectbox(key="filter_area").select("All")
            # each referral source alone: beside an officer and an area, most would match
            # almost nothing, and sweep little
            for source in sources:
                at.selectbox(key="filter_source").select(source)
                run_clean(at, (role, page, source))
                runs += 1
            at.selectbox(key="filter_source").select("All")
            at.run()
        # The Data page's file-kind radio only changes the upload form (test_data_page.py).
        for key in [r.key for r in at.radio if r.label != "What is the file?"]:
            assert key in RADIOS, (page, key, "add the radio's options to RADIOS")
            assert len(RADIOS[key]) == len(at.radio(key=key).options), key
            for option in RADIOS[key]:
                at.radio(key=key).set_value(option)
                run_clean(at, (role, page, key, option))
                runs += 1
        if page == "quarterly_pack":
            for shown in at.selectbox(key="pack_quarter").options:
                quarter = shown.split(" (incomplete")[0]  # the label as offered, less its note
                at.selectbox(key="pack_quarter").select(quarter)
                run_clean(at, (role, page, quarter))
                runs += 1
    return runs


PAGE_ORDER = ["overview", "my_work", "referral_sources", "offending_areas", "officer_caseloads",
              "journey_flow", "outcomes", "cost_savings", "referral_list", "quarterly_pack",
              "data", "access_log", "users", "methodology"]


# What Streamlit may log on every run under AppTest, which runs the script without a server.
HARMLESS_LOG = ("missing ScriptRunContext",)


@pytest.fixture
def streamlit_warnings(monkeypatch):
    """Warnings Streamlit logged meanwhile: a widget given a default and a Session State
    value too, say, which the page shows nothing of. Streamlit's loggers do not propagate,
    so each is listened to."""
    caught: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            message = record.getMessage()
            if not any(harmless in message for harmless in HARMLESS_LOG):
                caught.append(f"{record.name}: {message}")

    handler = Keep(logging.WARNING)

    def streamlit_loggers() -> list[logging.Logger]:
        return [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)
                if name.startswith("streamlit")]

    def set_up_and_listen(logger: logging.Logger) -> None:
        set_up(logger)
        logger.addHandler(handler)

    # and every logger Streamlit makes meanwhile (a module imported on the first run)
    set_up = streamlit_logger.setup_formatter
    monkeypatch.setattr(streamlit_logger, "setup_formatter", set_up_and_listen)
    for logger in streamlit_loggers():
        logger.addHandler(handler)
    yield caught
    for logger in streamlit_loggers():
        logger.removeHandler(handler)


def test_the_sweeps_hear_a_streamlit_logger_made_after_they_start(streamlit_warnings):
    streamlit_logger.get_logger("streamlit.made_meanwhile").warning("heard")
    assert streamlit_warnings == ["streamlit.made_meanwhile: heard"]


@pytest.mark.parametrize("role", access.ROLES)
def test_no_page_crashes_on_the_demo_data(app_as, streamlit_warnings, role):
    at = app_as(role)
    at.run()
    assert sweep(at, role) > 3
    assert not streamlit_warnings


@pytest.mark.parametrize("role", access.ROLES)
def test_no_page_crashes_on_one_officer_one_quarter_and_no_connect(app_as, small_db,
                                                                   streamlit_warnings, role):
    at = app_as(role, name=f"Sweep {role}", db=small_db,
                officers=("Officer 1",) if role == "officer" else ())
    at.run()
    assert sweep(at, role) > 3
    assert not streamlit_warnings


# Free-text values from the tracker written as Markdown: shown as Markdown, each would be a
# link on the page (an officer's name in a caption, say), pointing wherever the text says.
MARKDOWN = {"Officer": ("Officer 1", "Officer [1](https://x.example/o)"),
            "Offending Area": ("Aston", "*Aston* [a](https://x.example/a)"),
            "Rehab Facility": ("Seasons", "**Seasons** ![f](https://x.example/f.png)")}


def id_as_markdown(nominal_id: object) -> object:
    """Every nominal ID too (stored in capitals): the longest wait on My work named one
    unescaped. Blank rows stay blank."""
    return f"[n](https://x.example/{nominal_id})" if isinstance(nominal_id, str) \
        and nominal_id else nominal_id


UNESCAPED_LINK = re.compile(r"(?<!\\)\]\(https://x\.example", re.IGNORECASE)


@pytest.fixture(scope="module")
def markdown_db(tmp_path_factory):
    """The demo's last two tracker snapshots and its Connect export, with an officer, an area
    and a facility renamed as Markdown."""
    db = tmp_path_factory.mktemp("markdown") / "o2r.duckdb"
    for as_at in ("2022-06-30", "2022-07-31"):
        sheet = pd.read_excel(DEMO / f"o2r_tracker_synthetic_as_at_{as_at}.xlsx",
                              engine="calamine", header=None, dtype=str)
        header = next(i for i, row in sheet.iterrows() if "Nominal ID" in set(row))
        frame = sheet.iloc[header + 1:].set_axis(sheet.iloc[header], axis=1)
        for column, (plain, markdown) in MARKDOWN.items():
            frame[column] = frame[column].replace(plain, markdown)
        frame["Nominal ID"] = frame["Nominal ID"].map(id_as_markdown)
        for column in frame.columns:
            if "date" in str(column).lower() or str(column).lower() == "dob":
                frame[column] = pd.to_datetime(frame[column]).dt.strftime("%d/%m/%Y")
        service.ingest_bytes(db, "tracker", f"tracker {as_at}.csv",
                             frame.to_csv(index=False).encode(),
                             as_at=dt.date.fromisoformat(as_at))
    connect = pd.read_csv(DEMO / "o2r_connect_synthetic.csv", dtype=str, keep_default_na=False,
                          encoding="cp1252")  # as Excel on Windows writes it
    id_column = next(c for c in connect.columns if "nominal" in c.lower())
    connect[id_column] = connect[id_column].map(id_as_markdown)
    service.ingest_bytes(db, "connect", "connect.csv", connect.to_csv(index=False).encode(),
                         as_at=dt.date(2022, 7, 31))
    return db


@pytest.mark.parametrize("role", access.ROLES)
def test_no_page_reads_a_value_from_the_data_as_markdown(app_as, markdown_db, role):
    """Every page, with no filter and with the Markdown officer and area chosen, and every
    text it shows (titles, headers, captions, notes, metric labels): a tracker value is shown
    as written, never made a link or an image."""
    at = app_as(role, name=f"Markdown {role}", db=markdown_db,
                officers=(MARKDOWN["Officer"][1],) if role == "officer" else ())
    at.run()
    pages = [stem for stem in PAGE_ORDER if stem in access.CAPABILITIES[role].pages]
    for page in pages:
        at.switch_page(f"../pages/{page}.py")
        with_filters = access.CAPABILITIES[role].filters and page in access.FILTERED_PAGES
        if with_filters:
            at.run()  # the filter bar is drawn on this page only once it has run
        filtered = (("All", "All"), (MARKDOWN["Officer"][1], MARKDOWN["Offending Area"][1]))
        for officer, area in filtered if with_filters else filtered[:1]:
            if with_filters:
                at.selectbox(key="filter_officer").select(officer)
                at.selectbox(key="filter_area").select(area)
            run_clean(at, (role, page, officer))
            shown = [e.value for kind in ("title", "header", "subheader", "markdown", "caption",
                                           "info", "warning", "error", "success")
                     for e in getattr(at, kind)]
            shown += [e.label for kind in ("metric", "selectbox", "radio", "expander")
                      for e in getattr(at, kind)]
            shown += [e.proto.help for kind in ("metric", "selectbox", "radio")
                      for e in getattr(at, kind)]
            assert not [t for t in shown if UNESCAPED_LINK.search(t)], (role, page, officer)
