"""Data: upload a tracker or Connect export, see what is stored, and check the latest snapshot."""

import datetime as dt
import hashlib
import logging
import traceback

import pandas as pd
import streamlit as st

from dashboard import config, service
from dashboard.ingest import upload_hints
from dashboard.ingest.held_back import HeldBack
from dashboard.ingest.validation import IngestReport, UploadRejected
from dashboard.security import data_access
from dashboard.ui import layout, text

# Text that came from an uploaded file (headers, values, its name, messages quoting them) is
# shown only in tables (st.dataframe), never in markdown: a file name such as
# "[x](https://…).csv" must not become a link or an image.

KINDS = {"Tracker": "tracker", "Connect export": "connect"}
DROPPED_WHY = "never stored: identifies a person or is free text"
DERIVED_WHY = "read only to work out an age band at referral, then dropped: never stored"
IGNORED_WHY = "not in the data contract: not read"
PREVIEW_ROWS = 20
STATE_KEY = "data_page_upload"
FAILED = ("Something went wrong while {what}; nothing was changed. Try again, and if it happens "
          "again tell the dashboard administrator.")
COLUMNS = {
    "snapshot_id": st.column_config.NumberColumn("Snapshot"),
    "upload_id": st.column_config.NumberColumn("Upload"),
    "kind": "Kind",
    "file_name": "File",
    "sha256": st.column_config.TextColumn("SHA-256", width="small"),
    "referrals": st.column_config.NumberColumn("Referrals", format="localized"),
    "row_count": st.column_config.NumberColumn("Rows", format="localized"),
    "uploaded_at": st.column_config.DatetimeColumn("Uploaded", format="DD/MM/YYYY HH:mm"),
    "uploaded_by": "Uploaded by",
    "is_demo": st.column_config.CheckboxColumn("Demo data"),
    "is_withdrawn": st.column_config.CheckboxColumn("Withdrawn"),
    "withdrawn_by": st.column_config.TextColumn("Withdrawn by"),
    "withdrawn_reason": st.column_config.TextColumn("Why withdrawn"),
    "nominal_id": "Nominal ID",
    "issue": "Issue",
    "detail": "Detail",
    "source_row": st.column_config.NumberColumn("Tracker row"),
    "row": st.column_config.NumberColumn("Row"),
    "column": "Column",
    "value": "Value",
    "problem": st.column_config.TextColumn("Problem", width="large"),
    "fix": st.column_config.TextColumn("How to fix it", width="large"),
    "as_at_date": "As at",
}
log = logging.getLogger(__name__)


def column_config(frame: pd.DataFrame) -> dict:
    """Readable column titles, and every date shown as dd/mm/yyyy."""
    config_ = {}
    for column in frame.columns:
        named = COLUMNS.get(column, column.replace("_", " ").capitalize())
        if column.endswith("_date"):
            config_[column] = st.column_config.DateColumn(named, format="DD/MM/YYYY")
        else:
            config_[column] = named
    return config_


def log_without_cell_values(what: str, failure: BaseException) -> None:
    """Logs a failure with an upload by each exception's type and where it was raised, not
    its message: a reader's or DuckDB's message can quote a cell of the file (a name, an
    offence), and the server log is kept and read outside the dashboard's access rules."""
    lines, seen = [f"{what} failed (messages withheld: they can quote the file's cells)"], set()
    while failure is not None and id(failure) not in seen:
        seen.add(id(failure))
        lines += [f"{type(failure).__module__}.{type(failure).__qualname__}, raised:",
                  *traceback.format_tb(failure.__traceback__)]
        failure = failure.__cause__ or failure.__context__
    log.error("\n".join(line.rstrip() for line in lines))


def table(frame: pd.DataFrame) -> None:
    # A long hash would push the useful columns out of view: it goes last.
    order = [c for c in frame.columns if c != "sha256"] + (["sha256"] if "sha256" in frame else [])
    layout.person_table(frame, hide_index=True, width="stretch", column_order=order,
                 column_config=column_config(frame))


def checked(kind: str, as_at: dt.date, file_name: str, data: bytes) -> dict:
    """The validation of this file, done once and kept in the session across reruns."""
    key = (hashlib.sha256(data).hexdigest(), kind, as_at, file_name)
    held = st.session_state.get(STATE_KEY)
    if held is not None and held["key"] == key:
        return held
    held = {"key": key, "sha256": key[0], "prepared": None, "report": None, "stored_as": None,
            "held_back": None}
    try:
        with st.spinner("Checking the file…"):
            held["prepared"] = service.check_upload(kind, file_name, data, as_at=as_at)
        held["report"] = held["prepared"].report
    except UploadRejected as exc:
        held["report"] = exc.report
    except Exception as exc:  # never a traceback on screen; the server log has it
        log_without_cell_values("validating an upload", exc)
    st.session_state[STATE_KEY] = held  # only the latest file: a prepared upload can be large
    return held


def show_matching(report: IngestReport) -> None:
    matched = pd.DataFrame({"Your header": list(report.matched),
                            "Our column": list(report.matched.values())})
    dropped = pd.DataFrame({"Dropped column": report.dropped_identifying,
                            "Why": [DERIVED_WHY if "not stored" in report.matched.get(h, "")
                                    else DROPPED_WHY for h in report.dropped_identifying]})
    ignored = pd.DataFrame({"Ignored column": report.ignored_unknown, "Why": IGNORED_WHY})
    left, right = st.columns(2)
    with left:
        st.markdown("**How your columns were matched**")
        st.dataframe(matched, hide_index=True, width="stretch")
    with right:
        st.markdown("**Columns dropped or ignored**")
        if dropped.empty and ignored.empty:
            st.caption("None: every column was matched.")
        if not dropped.empty:
            st.dataframe(dropped, hide_index=True, width="stretch")
        if not ignored.empty:
            st.dataframe(ignored, hide_index=True, width="stretch")
    # The ignored columns already have their own table above.
    warnings = [w for w in report.warnings if not w.startswith("Ignored columns")]
    if warnings:
        st.warning(f"{len(warnings)} warning(s): these do not stop the upload.",
                   icon=":material/warning:")
        st.dataframe(pd.DataFrame({"Warning": warnings}), hide_index=True, width="stretch")


def show_wrong_kind(hints: upload_hints.Hints, kind: str) -> bool:
    """Says so when the file's header is another kind of export than the one chosen."""
    if hints.looks_like is None or hints.looks_like == kind:
        return False
    other = upload_hints.KIND_NAMES[hints.looks_like]
    label = next(name for name, value in KINDS.items() if value == hints.looks_like)
    st.error(f"**This looks like a {other}, not a {upload_hints.KIND_NAMES[kind]}**: its header "
             f"names a {other}'s columns. Choose \"{label}\" under \"What is the file?\", or "
             "check that you picked the right file. Nothing was stored.")
    return True


def show_rejection(report: IngestReport) -> None:
    problems = report.problems.astype({"row": "Int64"})
    if problems["row"].isna().all():  # about the whole file, not its rows: plain sentences
        st.error("This file could not be used, so nothing was stored.")
        for problem in problems.itertuples():
            st.text(problem.problem)
            if problem.fix and problem.fix != "See the message":
                st.text(f"To fix it: {problem.fix}")
        return
    st.error(f"This file was rejected: {report.problems_total:,} problem(s) found. "
             f"{report.row_counts()}Nothing was stored. Correct every row listed (rows as Excel "
             "numbers them) and upload the file again.")
    table(problems)
    # The problems quote the file's own values: logged and neutralised like any export.
    layout.csv_download(problems, "upload_problems", label="Download the problems (CSV)")


def show_valid(held: dict, kind: str) -> None:
    prepared, report = held["prepared"], held["report"]
    if kind == "tracker":
        st.success(f"The file is valid: storing it adds a tracker snapshot of {report.rows:,} "
                   f"referrals as at {report.as_at:%d/%m/%Y}.")
    else:
        st.success(f"The file is valid: {report.rows:,} crime rows. Storing it adds them; a "
                   "stored crime with the same crime reference is replaced by this file's row, "
                   "unless it came from a Connect export taken later (a later as-at date).")
    # The checks against what is stored need the writer's lock, so they run as it is stored.
    st.caption(f"{report.row_counts()} Storing compares it with what is stored first: "
               + ("a snapshot with far fewer referrals or people than the one before, or "
                  "leaving a column empty that it fills," if kind == "tracker" else
                  "an export most of whose people are not on the tracker, or that would move "
                  "stored crimes off it,")
               + " is held back for you to confirm.")
    preview = prepared.clean.slice(0, PREVIEW_ROWS).to_pandas(date_as_object=False)
    st.markdown(f"**Preview: the first {len(preview)} of {report.rows:,} rows as they would be "
                "stored** (identifying columns are already removed)")
    table(preview)
    store_button(held)


def store_button(held: dict) -> None:
    if held["stored_as"] is not None:
        report = held["report"]
        what = (f"{report.rows:,} referrals as at {report.as_at:%d/%m/%Y} (tracker snapshot "
                if report.kind == "tracker" else
                f"{report.rows:,} crime records as at {report.as_at:%d/%m/%Y} (Connect upload ")
        st.success(f"**Stored: {what}{held['stored_as']}).** Every page now shows the new "
                   "data.")
        if report.kept_later:
            st.info(f"{report.kept_later:,} of these crime references were already stored from "
                    "a Connect export taken later (a later as-at date): those records were kept "
                    "as that export has them.")
        unmatched = report.tracker_match_warning()
        if unmatched:
            st.warning(text.plain(unmatched))  # it names the file: never read as Markdown
        return
    uploads = data_access.run("uploads")
    history = data_access.run("snapshot_history")
    withdrawn = history.loc[history["is_withdrawn"], "snapshot_id"]  # may be stored again
    repeat = uploads[(uploads["kind"] == held["report"].kind)
                     & (uploads["sha256"] == held["sha256"])
                     & ~uploads["upload_id"].isin(withdrawn)]
    if not repeat.empty:
        first = repeat.iloc[-1]
        st.info(f"This exact file was already uploaded as upload {first['upload_id']} on "
                f"{first['uploaded_at']:%d/%m/%Y}; storing it again would change nothing.")
        return
    if data_access.current_viewer().is_demo:
        st.info(service.DEMO_STORE)
        return
    if data_access.demo_only() and not uploads.empty:
        st.warning("The database holds only the synthetic demo data. Storing this file removes "
                   "it (its snapshots, Connect records and signed-off packs), in the same step, "
                   "so that no demo figure is ever counted with real ones.")
    held_back = held["held_back"]
    if held_back is None:
        if not st.button("Store this upload", type="primary"):
            return
    elif not confirmed_after_looking(held_back, held["sha256"], held["report"].file_name):
        return
    try:
        with st.spinner("Storing…"):
            outcome = service.upload(config.db_path(), held["prepared"],
                                     data_access.current_viewer(),
                                     confirmed=held_back is not None)
    except service.UploadNotLogged as stored:  # stored all the same: never "nothing changed"
        log_without_cell_values("recording an upload in the access log", stored)
        held["stored_as"] = stored.upload_id
        st.error(text.plain(stored))  # it names the file: shown, never read as Markdown
        return
    except Exception as exc:
        log_without_cell_values("storing an upload", exc)
        st.error(FAILED.format(what="storing the upload"))
        return
    if outcome.repeat_of is not None:
        st.info(f"This file was already uploaded as upload {outcome.repeat_of}; nothing "
                "changed.")
        return
    # Stored, or held back to be looked at and so not stored: the next run says which (and
    # the sidebar filters and the data banner show any new data).
    held["stored_as"], held["held_back"] = outcome.upload_id, outcome.held_back
    st.rerun()


def confirmed_after_looking(held_back: HeldBack, sha256: str, file_name: str) -> bool:
    """An upload held back to be looked at (a snapshot holding much less than the one before,
    a Connect export whose people are mostly not on the tracker) is stored only once the
    uploader has read why and ticked."""
    # It names the file: shown, never read as Markdown.
    st.warning(text.plain(f"Not stored yet: {held_back.reason(file_name)}. "
                          f"{held_back.checks()}"), icon=":material/warning:")
    when = held_back.confirm_when()
    confirmed = st.checkbox(f"{when[0].upper()}{when[1:]}: store this {held_back.stores}",
                            key=f"confirm_held_back_{sha256[:16]}")
    return st.button(f"Store this {held_back.stores}", type="primary", disabled=not confirmed)


def withdraw_form(snapshots: pd.DataFrame) -> None:
    """Withdraw a snapshot found to be wrong: it is kept on record, but no figure uses it."""
    in_force = snapshots[~snapshots["is_withdrawn"]]
    if in_force.empty:
        return
    if data_access.current_viewer().is_demo:
        st.caption(service.DEMO_WITHDRAW)
        return
    with st.expander("Withdraw a snapshot"), st.form("withdraw_snapshot"):
        choice = st.selectbox("Snapshot", list(in_force["snapshot_id"]), format_func=lambda i: (
            f"Snapshot {i}, as at "
            f"{in_force.loc[in_force['snapshot_id'] == i, 'as_at_date'].iloc[0]:%d/%m/%Y}"),
            key="withdraw_id")
        reason = st.selectbox("Why (recorded in the access log)",
                              service.WITHDRAWAL_REASONS, index=None, placeholder="Choose why",
                              key="withdraw_reason")
        if not st.form_submit_button("Withdraw this snapshot"):
            return
    if reason is None:
        st.error("Choose why the snapshot is withdrawn: nothing was changed.")
        return
    try:
        service.withdraw_snapshot(config.db_path(), data_access.current_viewer(), int(choice),
                                  reason)
    except ValueError as exc:
        st.error(str(exc))
        return
    except service.ChangeNotLogged as exc:  # withdrawn all the same
        log.exception("recording a withdrawal in the access log failed")
        st.error(str(exc))
        return
    except Exception:  # never a traceback on screen; the server log has it
        log.exception("withdrawing a snapshot failed")
        st.error(FAILED.format(what="withdrawing the snapshot"))
        return
    st.rerun()


st.title("Data")
st.caption("Upload a new export, see what is stored, and check the latest tracker snapshot.")

st.header("Upload an export")
uploaded = st.file_uploader("Drag and drop the export here, or browse", type=["csv", "xlsx"],
                            help="An .xlsx workbook or a .csv file. Names, addresses, dates of "
                            "birth and free-text notes are dropped before anything is stored.")
# The kind and the as-at date start from what the file says about itself; the uploader
# confirms or changes them (a new file gives new defaults).
hints = upload_hints.read(uploaded.name, uploaded.getvalue()) if uploaded is not None \
    else upload_hints.Hints(None, None, None)
today = dt.date.today()
suggested = hints.as_at if hints.as_at and hints.as_at <= today else None
left, right = st.columns(2)
kind = KINDS[left.radio("What is the file?", list(KINDS), horizontal=True,
                        index=list(KINDS.values()).index(hints.looks_like or "tracker"),
                        help="Tracker: the O2R referrals spreadsheet (each upload is a "
                        "snapshot). Connect export: crimes by nominal.")]
as_at = right.date_input("Data as at", value=suggested or today, max_value=today,
                         format="DD/MM/YYYY",
                         help="The date the export was taken; no date in the file may be later")
if uploaded is not None:
    if suggested:
        right.info(f"Read from the file's {hints.as_at_from}: as at {suggested:%d/%m/%Y}. "
                   "Check it, and change it above if it is wrong.")
    else:
        right.warning("The file does not say its as-at date: set the date the export was "
                      "taken above (it is today's date until you do).")
    held = checked(kind, as_at, uploaded.name, uploaded.getvalue())
    report = held["report"]
    if report is None:
        st.error(FAILED.format(what="checking the file"))
    elif not (held["prepared"] is None and show_wrong_kind(hints, kind)):
        if report.matched:
            show_matching(report)
        if held["prepared"] is None:
            show_rejection(report)
        else:
            show_valid(held, kind)

st.header("Snapshots and uploads")
snapshots = data_access.run("snapshot_history")
snapshots.insert(3, "referrals", snapshots["snapshot_id"].map(
    data_access.run("snapshot_referrals").set_index("snapshot_id")["referrals"]).astype("Int64"))
st.subheader("Tracker snapshots")
st.caption("Each tracker upload is a snapshot; pages show the latest by as-at date that has "
           "not been withdrawn.")
table(snapshots)
withdraw_form(snapshots)
st.subheader("All uploads")
table(data_access.run("uploads"))

st.header("Data quality of the latest snapshot")
if snapshots.empty:
    st.info("No tracker snapshot has been uploaded yet.")
    st.stop()
in_force = snapshots[~snapshots["is_withdrawn"]]
if in_force.empty:
    st.info("Every tracker snapshot has been withdrawn.")
    st.stop()
latest = in_force.iloc[0]
st.caption(f"Snapshot {latest['snapshot_id']}, as at {latest['as_at_date']:%d/%m/%Y}. These "
           "did not stop the upload but deserve a look in the tracker: correct them there and "
           "upload the next snapshot.")
with st.expander("What is checked"):
    rules = data_access.run("data_quality_rules")
    st.markdown("\n".join(f"- {rule.description}" for rule in rules.itertuples()))
issues = data_access.run("data_quality", snapshot_id=int(latest["snapshot_id"]))
if issues.empty:
    st.success("No data-quality issues found in the latest snapshot.")
    st.stop()
counts = issues.groupby("issue").size().rename("referrals").reset_index()
st.dataframe(counts.sort_values("referrals", ascending=False), hide_index=True, width="content",
             column_config={"issue": "Issue", "referrals": "Referrals"})
st.markdown(f"**Every issue found ({len(issues):,})**")
table(issues)
layout.csv_download(issues, "data_quality", label="Download the issues (CSV)")
