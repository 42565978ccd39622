"""Command line: python -m dashboard ingest|query|demo|users (see --help)."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import sys
from pathlib import Path

# Only what --help needs is imported here; each command imports the rest (DuckDB, pandas)
# when it runs, so the command line starts in a fraction of a second.
from dashboard import config
from dashboard.security import access, accounts, audit, officer_links
from dashboard.security.audit import Action, Who
from dashboard.security.security_file import ROLES, security_db_path
from dashboard.store import queries


def uk_or_iso_date(text: str) -> dt.date:
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise argparse.ArgumentTypeError(f"{text!r} is not a date: use YYYY-MM-DD")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = main.add_subparsers(dest="command", required=True)

    ingest = sub.add_parser("ingest", help="validate and store a tracker or Connect export")
    ingest.add_argument("kind", choices=["tracker", "connect"])
    ingest.add_argument("file", type=Path)
    ingest.add_argument("--as-at", type=uk_or_iso_date, default=None,
                        help="the date the export was taken (default: the date its title "
                        "lines or file name give, as the Data page reads them, else today)")
    ingest.add_argument("--uploader", default=None, help="who is uploading (default: login name)")
    ingest.add_argument("--errors-csv", type=Path, default=None,
                        help="if rejected, also write the problems listed (the first "
                        "200) to this CSV")
    ingest.add_argument("--confirm", "--allow-shrink", dest="confirmed", action="store_true",
                        help="store an upload that would be held back to be looked at first: "
                        "a tracker snapshot with fewer referrals than O2R_SHRINK_THRESHOLD "
                        "(default 80%%) of the snapshot before it, or leaving empty a column it "
                        "fills; a Connect export fewer than half of whose people are on the "
                        "tracker")
    ingest.add_argument("--db", default=None, help=config.help_text("O2R_DB"))

    query = sub.add_parser("query", help="run a named query from queries/")
    query.add_argument("name", help="one of: " + ", ".join(queries.names()))
    query.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                       help="a query parameter, e.g. --param from_date=2021-06-01; a list "
                            "with commas, e.g. --param snapshot_ids=3,5")
    query.add_argument("--format", choices=["csv", "json"], default="csv")
    query.add_argument("--as-user", default=None, metavar="NAME",
                       help="see only what this dashboard user may see (default: everything, "
                       "as whoever holds the database file can read it all)")
    query.add_argument("--db", default=None, help=config.help_text("O2R_DB"))

    pack = sub.add_parser("pack", help="write the quarterly scrutiny pack (PDF or workbook); "
                          "a signed-off pack is issued with the figures it was signed off with")
    pack.add_argument("--quarter", required=True,
                      help="e.g. 2022/23-Q1 (financial year, Q1 = April to June) or 2022-Q2 "
                      "(calendar year)")
    pack.add_argument("--format", choices=["pdf", "xlsx"], default=None,
                      help="default: from the --out file name, else pdf")
    pack.add_argument("--out", type=Path, default=None,
                      help="file to write (default: o2r-pack-QUARTER-DISCLOSURE.FORMAT here)")
    pack.add_argument("--scheme", choices=["financial", "calendar"], default=None,
                      help="quarter scheme (default: as the --quarter label is written)")
    pack.add_argument("--exact", action="store_true",
                      help="exact counts, small ones included: steering group and internal use "
                      "only (default: counts under 5 shown as <5, for circulation)")
    pack.add_argument("--db", default=None, help=config.help_text("O2R_DB"))

    demo = sub.add_parser("demo", help="build the database from the synthetic demo data")
    demo.add_argument("--db", default=None, help=config.help_text("O2R_DB"))

    prepare = sub.add_parser("prepare", help="make the database ready to serve before the "
                             "dashboard starts (bin/dashboard runs it): the demo data if there "
                             "is none, the Connect facts rebuilt if this release builds them "
                             "otherwise, so that no viewer waits for either")
    prepare.add_argument("--db", default=None, help=config.help_text("O2R_DB"))

    users = sub.add_parser("users", help="add, list, revoke or set the password of users")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="add a user; the password is read from stdin if "
                               "piped, else asked for twice")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--officer", action="append", default=[], metavar="OFFICER_NAME",
                     help="a name the tracker uses for this officer (repeat for each spelling)")
    add.add_argument("--email", default=None, help="the address single sign-on reports")
    add.add_argument("--no-password", action="store_true",
                     help="no local password: the user signs in by single sign-on only")
    users_sub.add_parser("list", help="every user, with role, officer names and status")
    users_sub.add_parser("revoke", help="deactivate a user (kept for the access log)") \
        .add_argument("name")
    users_sub.add_parser("set-password", help="replace a user's password") \
        .add_argument("name")
    for command in users_sub.choices.values():
        command.add_argument("--security-db", default=None,
                             help=config.help_text("O2R_SECURITY_DB"))
    return main


def run_ingest(args: argparse.Namespace) -> int:
    from dashboard import ingest_command  # DuckDB and the readers, only when ingesting

    return ingest_command.run(args)


def run_query(args: argparse.Namespace) -> int:
    from dashboard import service
    from dashboard.store import database
    from dashboard.ui import exports

    params = {}
    for item in args.param:
        name, sep, value = item.partition("=")
        if not sep:
            print(f"--param {item!r}: write it as NAME=VALUE", file=sys.stderr)
            return 2
        name, value = name.strip(), value.strip()
        params[name] = [parse_value(v.strip()) for v in value.split(",")] \
            if name in queries.LIST_PARAMETERS and value.lower() not in ("", "null", "none") \
            else parse_value(value)
    viewer = access.COMMAND_LINE
    if args.as_user:
        user = accounts.get_user(security_db_path(), args.as_user)
        if user is None or not user.active:
            print(f"No active dashboard user {args.as_user!r}", file=sys.stderr)
            return 2
        viewer = access.Viewer(user.name, user.role, tuple(user.officer_names))
    db = config.db_path(args.db)
    service.ensure_database(db)
    con = database.connect_read_only(db)
    try:
        result = queries.run(con, viewer, args.name, **params)
        if queries.access_level(args.name) == "person":
            # Rows about people read here are a consultation like any other: logged before
            # they are printed (a refused query is no view), with the operating system's login
            # of whoever ran it (--as-user names only whose rights they had).
            login = f"{accounts.COMMAND_LINE} ({accounts.login_name()})"
            audit.record(Who(login) if viewer is access.COMMAND_LINE else viewer,
                         Action.VIEW, target=args.name,
                         filters={k: str(v) for k, v in params.items()}, detail=login)
    except access.AccessDenied as exc:
        print(f"Not allowed: {exc}", file=sys.stderr)
        return 4
    except (queries.UnknownQuery, TypeError, ValueError) as exc:
        print(str(exc).strip("'\""), file=sys.stderr)
        return 2
    finally:
        con.close()
    if args.format == "json":
        print(json.dumps(json.loads(result.to_json(orient="records", date_format="iso")),
                         indent=2))
    else:
        # The same neutralising as the dashboard's downloads: this output is opened in Excel.
        sys.stdout.write(exports.neutralised(result).to_csv(index=False))
    return 0


def parse_value(text: str) -> object:
    lowered = text.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered in ("", "null", "none"):
        return None
    if text.isdigit():
        return int(text)
    return text


def run_pack(args: argparse.Namespace) -> int:
    from dashboard import pack, service
    from dashboard.pack import export as pack_export  # only this command needs the writers

    try:
        quarter = pack.parse_quarter(args.quarter, args.scheme)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    disclosure = "exact" if args.exact else "controlled"
    fmt = args.format or (args.out.suffix.lower().lstrip(".") if args.out is not None
                          and args.out.suffix.lower() in (".pdf", ".xlsx") else "pdf")
    out = args.out or Path(f"o2r-pack-{quarter.label.replace('/', '-').replace(' ', '-')}"
                           f"-{disclosure}.{fmt}")
    db = config.db_path(args.db)
    service.ensure_database(db)
    issued = pack.issue(db, access.COMMAND_LINE, quarter, quarter.scheme, disclosure)
    # An export like the pack page's download: logged first, or not written.
    login = f"{accounts.COMMAND_LINE} ({accounts.login_name()})"
    try:
        audit.record(Who(login), Action.EXPORT, target=out.name,
                     filters={"quarter": quarter.label, "disclosure": disclosure},
                     detail=str(out))
    except audit.AccessLogError as exc:
        print(f"{exc} The pack was not written.", file=sys.stderr)
        return 3
    writer = pack_export.write_pdf if fmt == "pdf" else pack_export.write_xlsx
    writer(issued, out)
    if issued.pack_id is None:
        print(f"Wrote the {quarter.label} pack ({disclosure}), not signed off, to {out}")
    else:
        print(f"Wrote signed-off pack {issued.pack_id} for {quarter.label} ({disclosure}), "
              f"signed off by {issued.signed_off_by} on {issued.signed_off_at:%d/%m/%Y}, "
              f"to {out}")
        for line in issued.differences:
            print(f"  Now differs: {line}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from dashboard import service

    db = config.db_path(args.db)
    for report in service.build_demo(db):
        print(report.summary())
    print(f"Demo database: {db}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    import duckdb

    from dashboard import service
    from dashboard.store import database, facts

    db = config.db_path(args.db)
    try:
        if service.ensure_database(db):
            print(f"Built the demo database: {db}")
        with duckdb.connect(":memory:") as probe:
            probe.execute("attach $path as o2r (read_only)", {"path": str(db)})
            current = facts.facts_current(probe, "o2r")
        database.connect_read_only(db).close()  # a writer rebuilds stale facts first
    except duckdb.IOException as exc:
        print(f"{db} could not be opened ({exc}). If the dashboard is already running, it "
              "prepares the database itself when first viewed.", file=sys.stderr)
        return 1
    if not current:
        print(f"Rebuilt the Connect facts (the Outcomes, Cost savings and Offending areas "
              f"pages read them): {db}")
    print(f"Ready: {db}")
    return 0


def run_users(args: argparse.Namespace) -> int:
    from dashboard import service

    path = security_db_path(args.security_db)
    actor = Who(f"{accounts.COMMAND_LINE} ({accounts.login_name()})")
    try:
        if args.users_command == "add":
            password = None if args.no_password else read_password()
            user = service.add_user(actor, args.name, args.role, password, args.officer,
                                    args.email, path=path)
            print(f"Added {user.name} ({user.role}) to {path}")
        elif args.users_command == "set-password":
            service.set_password(actor, args.name, read_password(), path=path)
            print(f"Password changed for {args.name}")
        elif args.users_command == "revoke":
            service.revoke_user(actor, args.name, path=path)
            print(f"Revoked {args.name}: they can no longer sign in")
        else:
            print_users(service.list_users(actor, path=path))
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return 0


def read_password() -> str:
    """One line from stdin when piped; otherwise asked for twice without echo."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    password = getpass.getpass("Password: ")
    if getpass.getpass("Same password again: ") != password:
        raise ValueError("The two passwords differ: nothing was changed")
    return password


def print_users(users: list[accounts.User]) -> None:
    rows = [("name", "role", "officer names", "email", "status")] + [
        (u.name, u.role, "; ".join(u.officer_names), u.email or "",
         "active" if u.active else "revoked") for u in users]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
    for name in officer_links.unallocated_links(users):
        print(f"Warning: {name} is linked to 'Unallocated', which no account may be: the link "
              "is not used. Unlink it.", file=sys.stderr)
    for officer, names in officer_links.shared_officer_names(users).items():
        print(f"Warning: the officer name {officer!r} is linked to {', '.join(names)}: each "
              "sees the others' caseload. Unlink it from all but one.", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handlers = {"ingest": run_ingest, "query": run_query, "demo": run_demo, "users": run_users,
                "pack": run_pack, "prepare": run_prepare}
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        # A change is made whole or not at all, but one stopped after it was made (before its
        # access-log entry) is made: never say nothing changed without knowing.
        print("Interrupted. A change is made whole or not at all: check whether it was made "
              "(an upload on the Data page or with `query uploads`) before making it again.",
              file=sys.stderr)
        return 130
    except Exception as exc:  # the user gets a message, never a traceback
        # An ingest's message can quote a cell of the file, and an ingest run on a schedule
        # writes its errors to a log kept outside the dashboard's access rules.
        said = "its message withheld: it may quote the file" if args.command == "ingest" \
            else str(exc)
        print(f"Unexpected error ({type(exc).__name__}: {said}). Nothing was changed; please "
              "report this with the command you ran.", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
