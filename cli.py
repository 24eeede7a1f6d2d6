"""SafeLabel command line: set up the database, create users and projects, import, stats.

The app holds the database file while it runs; DuckDB lets only one process open it, so
these commands then stop with one clear line (exit status 2) and change nothing.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING

from core import config
from core.formats import FormatProblem
from store.db import Database, DatabaseLockedError, StoreError

if TYPE_CHECKING:
    from store.projects import Project

# Start-up time is part of the interface (`--help` and `stats` answer within 0.5 s, see
# bench/bench_cli.py): each command imports the heavier store modules it needs, when it runs.


def _open(args: argparse.Namespace) -> Database:
    from store.bootstrap import open_app_database
    return open_app_database(args.db or config.db_path(), demo=False)


def _read_password() -> str:
    if sys.stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != first:
            raise StoreError("the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_init(args: argparse.Namespace) -> int:
    from store import users
    from store.bootstrap import open_app_database
    db = open_app_database(args.db or config.db_path(), demo=config.demo_enabled())
    token = users.setup_token(db)
    print(f"Database ready: {db.path}")
    if token:
        print(f"No accounts yet. Create the first admin in the app with this setup token:\n{token}")
    else:
        print("Accounts exist already; no setup token is needed.")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    from store import users
    db = _open(args)
    password = _read_password()
    users.create_user(db, None, args.username, args.name or args.username, password, args.role)
    print(f"Created {args.role} {args.username.strip().lower()!r}.")
    return 0


def cmd_reset_password(args: argparse.Namespace) -> int:
    from store import users
    db = _open(args)
    user = users.get_user_by_username(db, args.username.strip().lower())
    if user is None:
        raise StoreError(f"no user {args.username!r}")
    users.set_password(db, None, user.id, _read_password())
    users.unlock_logins(db, user.username)
    print(f"Password of {user.username!r} reset; every session of theirs has ended.")
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    from store import users
    db = _open(args)
    users.unlock_logins(db, args.username)
    print(f"Failed-login delays of {args.username.strip().lower()!r} cleared.")
    return 0


def _user_ids(db: Database, usernames: list[str] | None) -> list[int]:
    from store import users
    ids = []
    for username in usernames or []:
        user = users.get_user_by_username(db, username)
        if user is None:
            raise StoreError(f"no user {username!r}")
        ids.append(user.id)
    return ids


def cmd_create_project(args: argparse.Namespace) -> int:
    from store import projects
    db = _open(args)
    taxonomy = open(args.taxonomy, encoding="utf-8").read() if args.taxonomy else None
    guidelines = open(args.guidelines, encoding="utf-8").read() if args.guidelines else ""
    members = _user_ids(db, args.assign)
    project_id = projects.create_project(db, None, args.name, args.kind, guidelines, taxonomy,
                                         args.overlap, members, args.open_to_all)
    print(f"Created {args.kind} project {args.name!r} (id {project_id}).")
    return 0


def _project(db: Database, name: str) -> Project:
    from store import projects
    project = projects.get_project_by_name(db, name)
    if project is None:
        raise StoreError(f"no project named {name!r}")
    return project


def cmd_import(args: argparse.Namespace) -> int:
    from core.formats import parse_mapping
    from store.imports import CLI, default_rejects_path, import_file, listing

    if args.rejects and not args.skip_bad:
        raise StoreError("--rejects names where --skip-bad writes the rows it sets aside: "
                         "add --skip-bad")
    db = _open(args)
    project = _project(db, args.project)
    mapping = parse_mapping(args.map or [])
    rejects = args.rejects or (default_rejects_path(args.file) if args.skip_bad else None)
    result = import_file(db, None, project.id, args.file, args.format, mapping,
                         skip_bad=args.skip_bad, rejects_path=rejects, controls=CLI)
    print(f"Read {result.rows_read} rows: added {result.items_added} items, "
          f"skipped {result.duplicates_skipped} already present.")
    if result.rows_rejected:
        print(f"Set aside {result.rows_rejected} rows with {result.problems_total} problems, "
              f"written with their reasons to {result.rejects_path}:")
        print(listing(result.problems, result.problems_total))
    return 0


def cmd_import_annotations(args: argparse.Namespace) -> int:
    from core.vote_formats import VoteProblem, parse_vote_mapping
    from store.annotation_imports import import_annotations

    db = _open(args)
    project = _project(db, args.project)
    try:
        mapping = parse_vote_mapping(args.map or [], project.kind)
    except VoteProblem as exc:
        raise StoreError(str(exc)) from None
    result = import_annotations(db, None, project.id, args.file, args.format, mapping)
    print(result.summary())
    return 0


def cmd_rescore(args: argparse.Namespace) -> int:
    from store.imports import refresh_severity_hints

    db = _open(args)
    project = _project(db, args.project)
    changed = refresh_severity_hints(db, None, project.id)
    print(f"Recomputed the offline severity hint of {changed} items "
          "(hints from an imported column are kept).")
    return 0


def cmd_train_hints(args: argparse.Namespace) -> int:
    from core.hint_model import quality_rows, quality_summary
    from store.hint_models import hint_status, train_and_store, upkeep

    db = _open(args)
    project = _project(db, args.project)
    result = train_and_store(db, None, project.id)
    rescored = upkeep(db, project.id, step=args.step, max_steps=None).rescored
    rows = quality_rows(result.evaluation)
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in rows[0]}
    print("  ".join(k.ljust(w) for k, w in widths.items()).rstrip())
    for row in rows:
        print("  ".join(row[k].ljust(w) for k, w in widths.items()).rstrip())
    print()
    print(quality_summary(result.evaluation))
    print(f"Model version {result.model.version} trained on {result.model.trained_on} items in "
          f"{result.model.train_seconds:.1f} s. {hint_status(db, project.id).explanation} "
          f"Re-scored {rescored} items.")
    return 0


def cmd_stats(args: argparse.Namespace) -> int:
    from store import projects
    db = _open(args)
    project = _project(db, args.project)
    progress = projects.project_progress(db, project.id)
    print(f"project:     {project.name} ({project.kind}, overlap {project.overlap})")
    print(f"items:       {progress.items}")
    print(f"done:        {progress.items_done}")
    print(f"annotations: {progress.annotations}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from datetime import datetime

    from store.exports import ExportFilter, export

    db = _open(args)
    project = _project(db, args.project)
    annotators = _user_ids(db, args.annotators)

    def day(text: str | None):
        try:
            return datetime.fromisoformat(text) if text else None
        except ValueError:
            raise StoreError(f"not a date: {text!r} (use YYYY-MM-DD)") from None

    rows = export(db, None, project.id, args.kind, args.out, args.format,
                  ExportFilter(day(args.since), day(args.until), tuple(annotators)),
                  args.axis, args.min_strength, args.margin)
    print(f"Wrote {rows} rows to {args.out}")
    return 0


def cmd_migrate_to(args: argparse.Namespace) -> int:
    from store.migrate_to import move_to_postgres
    from store.postgres import redacted

    source = str(args.db or config.db_path())
    report = move_to_postgres(source, args.url)
    header = ("table", "rows (DuckDB)", "rows (PostgreSQL)", "checksum", "")
    rows = [(c.table, str(c.source_rows), str(c.target_rows),
             "same" if c.source_checksum == c.target_checksum else "DIFFERS",
             "ok" if c.equal else "DIFFERENT") for c in report.checks]
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    if not report.equal:
        print(f"error: {sum(not c.equal for c in report.checks)} table(s) differ after the "
              f"copy; nothing was kept in {redacted(args.url)}", file=sys.stderr)
        return 1
    print(f"Moved {len(report.checks)} tables ({sum(c.source_rows for c in report.checks)} rows) "
          f"from {source} to {redacted(args.url)}; every table matches. Point SAFELABEL_DB at "
          "the URL to use it.")
    return 0


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def cmd_agreement(args: argparse.Namespace) -> int:
    # Heavy statistics libraries load here, only for this command (see the start-up note).
    from core.agreement import alpha_interval, cohen_kappa, fleiss_kappa, krippendorff_alpha
    from store.agreement_data import agreement_questions

    if args.resamples < 1:
        raise StoreError(f"--resamples must be at least 1, not {args.resamples}")
    db = _open(args)
    project = _project(db, args.project)
    header = ("question", "level", "items", "raters", "alpha", "95% CI", "kappa")
    rows: list[tuple[str, ...]] = []
    notes: dict[str, list[str]] = {}      # why a coefficient is missing -> the questions
    for q in agreement_questions(db, project):
        alpha = krippendorff_alpha(q.ratings, q.level)
        ci = alpha_interval(q.ratings, q.level, resamples=args.resamples, seed=args.seed)
        # Cohen's kappa assumes the same two people rated every item; Fleiss' kappa only
        # that every item has the same number of ratings (it treats answers as nominal).
        if len(q.raters) == 2:
            weights = "linear" if q.level == "ordinal" else None
            kappa = cohen_kappa(q.ratings, weights)
            kind = "Cohen, linear weights" if weights else "Cohen"
        else:
            kappa, kind = fleiss_kappa(q.ratings), "Fleiss"
        ci_text = "-" if ci.low is None else f"[{ci.low:.3f}, {ci.high:.3f}]"
        kappa_text = "-" if kappa.value is None else f"{kappa.value:.3f} ({kind})"
        rows.append((q.name, q.level, str(alpha.units), str(len(q.raters)),
                     _number(alpha.value), ci_text, kappa_text))
        if alpha.reason:
            notes.setdefault(f"no alpha: {alpha.reason}", []).append(q.name)
        if kappa.reason and kappa.reason != alpha.reason:
            notes.setdefault(f"no {kind} kappa: {kappa.reason}", []).append(q.name)
    widths = [max(len(r[i]) for r in (header, *rows)) for i in range(len(header))]
    print(f"project: {project.name} ({project.kind}); items = items rated by two or more "
          f"people; CI = bootstrap over items, {args.resamples} resamples, seed {args.seed}")
    for row in (header, *rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    for note, names in notes.items():
        print(f"{note} ({', '.join(names)})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python cli.py", description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="database file (default: $SAFELABEL_DB or data/safelabel.duckdb)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("init", help="create the database and print the first-admin setup token")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("create-user", help="create an account; the password is read from stdin or a prompt")
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=["annotator", "lead", "admin"])
    p.add_argument("--name", help="display name (default: the username)")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("reset-password", help="set a new password for an account (read from "
                       "stdin or a prompt) and end all its sessions")
    p.add_argument("username")
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("unlock", help="clear an account's failed-login delays")
    p.add_argument("username")
    p.set_defaults(func=cmd_unlock)

    p = sub.add_parser("create-project", help="create a project")
    p.add_argument("name")
    p.add_argument("--kind", required=True, choices=["label", "compare"])
    p.add_argument("--overlap", type=int, default=1, help="annotators per item (default 1)")
    p.add_argument("--guidelines", help="a Markdown file of guidelines")
    p.add_argument("--taxonomy", help="a YAML or JSON taxonomy file (default: the built-in one)")
    p.add_argument("--assign", nargs="*", metavar="USERNAME", help="annotators to assign")
    p.add_argument("--open-to-all", action="store_true", help="every annotator may work on it")
    p.set_defaults(func=cmd_create_project)

    p = sub.add_parser("import", help="import a CSV, JSONL, JSON or Parquet file into a project")
    p.add_argument("file")
    p.add_argument("--project", required=True)
    p.add_argument("--format", choices=["csv", "jsonl", "json", "parquet"],
                   help="file format (default: from the extension)")
    p.add_argument("--map", nargs="*", metavar="COLUMN=FIELD",
                   help="use a file column for a field, e.g. --map question=prompt answer=response")
    p.add_argument("--skip-bad", action="store_true",
                   help="import the valid rows and set the rest aside in a rejects file "
                        "(default: any problem stops the whole import)")
    p.add_argument("--rejects", metavar="PATH",
                   help="with --skip-bad: where to write the rows set aside, one JSON line "
                        "each with its problems (default: FILE's name with .rejects.jsonl)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("import-annotations", help="import votes made elsewhere (CSV, JSONL or a "
                       "Label Studio JSON export) as annotations of a project's items")
    p.add_argument("file")
    p.add_argument("--project", required=True)
    p.add_argument("--format", choices=["csv", "jsonl", "label_studio"],
                   help="default: from the extension (.json is a Label Studio export)")
    p.add_argument("--map", nargs="*", metavar="COLUMN=FIELD",
                   help="use a file column for a vote field, e.g. --map rater=annotator "
                        "task=item_id (fields: item_id, annotator, submitted_at; label projects "
                        "is_safe, categories, severity, note; compare projects overall, "
                        "harmlessness, helpfulness, rationale)")
    p.set_defaults(func=cmd_import_annotations)

    p = sub.add_parser("export", help="export a project's annotations or training data")
    from core.export_kinds import AXES, FORMATS, KINDS   # plain data: no database imports

    p.add_argument("--project", required=True)
    only = {pk: ", ".join(k.name for k in KINDS.values() if k.project_kinds == (pk,))
            for pk in ("label", "compare")}
    p.add_argument("--kind", default="annotations", choices=list(KINDS), metavar="KIND",
                   help=f"what to export (default: annotations): {', '.join(KINDS)}. Label "
                   f"projects only: {only['label']}; compare projects only: {only['compare']}")
    p.add_argument("--format", choices=list(FORMATS),
                   help="default: jsonl (json for label_studio)")
    p.add_argument("--out", required=True, help="file to write")
    p.add_argument("--since", help="only annotations submitted on or after this date/time")
    p.add_argument("--until", help="only annotations submitted before this date/time")
    p.add_argument("--annotators", nargs="*", metavar="USERNAME")
    p.add_argument("--axis", default="overall", choices=list(AXES))
    p.add_argument("--min-strength", type=int, default=1)
    p.add_argument("--margin", action="store_true", help="add a margin column to TRL pairs")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("rescore", help="recompute the offline severity hints of a project's items")
    p.add_argument("--project", required=True)
    p.set_defaults(func=cmd_rescore)

    p = sub.add_parser("train-hints", help="train a severity hint model on a project's labels, "
                       "re-score its items and print how the model and the keyword hint do")
    p.add_argument("--project", required=True)
    p.add_argument("--step", type=int, default=500, help="items re-scored per transaction")
    p.set_defaults(func=cmd_train_hints)

    p = sub.add_parser("stats", help="items, annotations and done count of a project")
    p.add_argument("--project", required=True)
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("agreement", help="inter-annotator agreement of a project, per question "
                       "(Krippendorff's alpha with a bootstrap interval, Cohen's or Fleiss' kappa)")
    p.add_argument("--project", required=True)
    p.add_argument("--resamples", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(func=cmd_agreement)

    p = sub.add_parser("migrate-to", help="move this DuckDB installation (--db or $SAFELABEL_DB) "
                       "into an empty PostgreSQL database, checking every table after the copy")
    p.add_argument("url", help="postgresql://user[:password]@host[:port]/database")
    p.set_defaults(func=cmd_migrate_to)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except DatabaseLockedError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (StoreError, FormatProblem, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
