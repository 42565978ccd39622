"""The tables of the DuckDB file (database.py creates them in every writer)."""

# Chosen, never typed: a typed reason is free text about a file of people's records, and
# would be kept in the database and the access log for good.
WITHDRAWAL_REASONS = (
    "Wrong as-at date",
    "Not the whole tracker (filtered, cut off or rows hidden)",
    "Wrong file (not the O2R tracker)",
    "Errors in the export, corrected in a later one",
    "Holds data that should not have been uploaded",
    "Another reason (ask the person who withdrew it)",
)

SCHEMA = [
    """create table if not exists uploads (
        upload_id integer primary key,
        kind varchar not null,              -- 'tracker' (a snapshot) or 'connect'
        file_name varchar not null,
        sha256 varchar not null,
        as_at_date date not null,
        row_count integer not null,
        uploaded_at timestamp not null,
        uploaded_by varchar not null,
        is_demo boolean not null default false
    )""",
    """create table if not exists referrals (
        snapshot_id integer not null,       -- the tracker upload this row came from
        source_row integer not null,        -- row number in that upload, as Excel shows it
        nominal_id varchar not null,
        referral_date date not null,
        officer varchar not null,
        referral_source varchar not null,
        referral_source_detail varchar,
        offending_area varchar,
        status varchar not null,
        first_contact_date date,
        assessment_date date,
        pre_admission_start_date date,
        rehab_assessment_date date,
        rehab_admission_date date,
        rehab_facility varchar,
        rehab_exit_date date,
        rehab_exit_reason varchar,
        outcome varchar,
        age_band varchar,
        primary key (snapshot_id, nominal_id, referral_date)
    )""",
    # No primary key on crime_reference: it costs seconds per million rows, and uniqueness
    # already holds (validation refuses repeats within an upload; merge_crimes replaces stored
    # rows under the writer lock).
    """create table if not exists crimes (
        crime_reference varchar not null,
        nominal_id varchar not null,
        offence_date date not null,
        offence_type varchar not null,
        offence_area varchar,
        value_stolen_gbp decimal(14, 2),
        upload_id integer not null
    )""",
    # Connect facts pre-aggregated when data lands (refresh_crime_facts), so the default
    # offences view reads a table the size of months x areas x offence types, not every crime:
    # the crimes of people in the latest tracker snapshot in force, by offence month.
    """create table if not exists crime_facts (
        snapshot_id integer not null,       -- the snapshot whose people these are
        offence_month date not null,        -- first day of the month
        offence_area varchar,
        offence_type varchar not null,
        offences bigint not null,
        value_stolen_gbp decimal(18, 2)
    )""",
    # Each referral's offences in its offending windows (queries/offending_windows.sql), counted
    # when data lands (refresh_window_facts) for the window lengths the Outcomes page offers
    # (91, 182, 365, 730 days), so the default views read a table the size of referrals x
    # offence types, not every crime: the latest snapshot in force, one row per referral per
    # offence type with an offence in any of its windows or after its rehab exit (no row:
    # none). *_gbp is the value stolen in the same window.
    """create table if not exists window_facts (
        snapshot_id integer not null,
        nominal_id varchar not null,
        referral_date date not null,
        offence_type varchar not null,
        before_91 integer not null,
        before_182 integer not null,
        before_365 integer not null,
        before_730 integer not null,
        after_referral_91 integer not null,
        after_referral_182 integer not null,
        after_referral_365 integer not null,
        after_referral_730 integer not null,
        during_rehab integer not null,
        after_exit_91 integer not null,
        after_exit_182 integer not null,
        after_exit_365 integer not null,
        after_exit_730 integer not null,
        before_91_gbp decimal(18, 2),
        before_182_gbp decimal(18, 2),
        before_365_gbp decimal(18, 2),
        before_730_gbp decimal(18, 2),
        after_referral_91_gbp decimal(18, 2),
        after_referral_182_gbp decimal(18, 2),
        after_referral_365_gbp decimal(18, 2),
        after_referral_730_gbp decimal(18, 2),
        during_rehab_gbp decimal(18, 2),
        after_exit_91_gbp decimal(18, 2),
        after_exit_182_gbp decimal(18, 2),
        after_exit_365_gbp decimal(18, 2),
        after_exit_730_gbp decimal(18, 2),
        -- the first offence of the type after the rehab exit, up to the latest Connect upload's
        -- as-at date (queries/time_to_first_offence.sql)
        first_offence_after_exit date
    )""",
    # How the facts above were built (store/facts.facts_definition): one row, a digest.
    """create table if not exists facts_built (
        definition varchar not null
    )""",
    # A snapshot found to be wrong is withdrawn, never deleted: it stays on record, and no
    # figure reads it (queries/macros/scoped_referrals.sql, queries.latest_snapshot_id).
    """create table if not exists snapshot_withdrawals (
        snapshot_id integer primary key,
        withdrawn_at timestamp not null,
        withdrawn_by varchar not null,
        reason varchar not null
    )""",
    """create table if not exists labels (
        label_group varchar not null,
        key varchar not null,
        label varchar not null,
        primary key (label_group, key)
    )""",
    # Signed-off quarterly packs, frozen as JSON (dashboard/pack.py), so a pack can be issued
    # again with its signed-off figures after newer uploads; the latest per key is current.
    """create table if not exists packs (
        pack_id integer primary key,
        quarter varchar not null,           -- '2022/23 Q1' or '2022 Q2'
        scheme varchar not null,            -- 'financial' or 'calendar'
        disclosure varchar not null,        -- 'controlled' or 'exact'
        snapshot_id integer,                -- the tracker snapshot its stock came from
        connect_upload_id integer,
        signed_off_by varchar not null,
        signed_off_at timestamp not null,
        pack_json varchar not null
    )""",
]

# Emptying what the uploads brought and everything built on them, uploads last (the others
# name its rows): how the demo data is cleared when the first real file is stored.
CLEAR_UPLOADED_DATA = ("delete from referrals", "delete from crimes",
                       "delete from snapshot_withdrawals", "delete from labels",
                       "delete from packs", "delete from uploads")
