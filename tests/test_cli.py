"""The command line, run as a separate process on a real database file."""
import os
import subprocess
import io
import sys

from tests.conftest import ROOT
from tests.helpers import label_rows, write_jsonl


def run_cli(db_path, *args, stdin=""):
    env = {**os.environ, "SAFELABEL_DB": str(db_path), "SAFELABEL_DEMO": "0"}
    return subprocess.run([sys.executable, str(ROOT / "cli.py"), *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_end_to_end(tmp_path):
    db_path = tmp_path / "cli.duckdb"
    init = run_cli(db_path, "init")
    assert init.returncode == 0 and "setup token" in init.stdout
    user = run_cli(db_path, "create-user", "Alice", "--role", "annotator", stdin="a-long-password\n")
    assert user.returncode == 0, user.stderr
    assert "a-long-password" not in user.stdout + user.stderr
    project = run_cli(db_path, "create-project", "Pilot", "--kind", "label", "--assign", "alice")
    assert project.returncode == 0, project.stderr
    data = write_jsonl(tmp_path / "items.jsonl",
                       [{"key": r["id"], "question": r["prompt"], "response": r["response"]}
                        for r in label_rows(12)])
    imported = run_cli(db_path, "import", str(data), "--project", "Pilot",
                       "--map", "key=id", "question=prompt")
    assert imported.returncode == 0, imported.stderr
    assert "added 12 items" in imported.stdout
    again = run_cli(db_path, "import", str(data), "--project", "Pilot", "--map", "key=id", "question=prompt")
    assert "added 0 items, skipped 12" in again.stdout
    stats = run_cli(db_path, "stats", "--project", "Pilot")
    assert "items:       12" in stats.stdout and "done:        0" in stats.stdout
    rescore = run_cli(db_path, "rescore", "--project", "Pilot")
    assert rescore.returncode == 0 and "severity hint of 12 items" in rescore.stdout


def test_cli_reports_bad_input_without_a_traceback(tmp_path):
    db_path = tmp_path / "cli.duckdb"
    run_cli(db_path, "init")
    run_cli(db_path, "create-project", "Pilot", "--kind", "label")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "prompt": ""}\n', encoding="utf-8")
    result = run_cli(db_path, "import", str(bad), "--project", "Pilot")
    assert result.returncode == 1
    assert "row 1, column 'prompt': is empty" in result.stderr
    assert "Traceback" not in result.stderr
    missing = run_cli(db_path, "stats", "--project", "Nope")
    assert missing.returncode == 1 and "no project named 'Nope'" in missing.stderr


def test_cli_says_so_when_the_app_holds_the_database(tmp_path):
    db_path = tmp_path / "held.duckdb"
    run_cli(db_path, "init")
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
         "print('ready', flush=True); time.sleep(60)", str(db_path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ready"
        result = run_cli(db_path, "stats", "--project", "x")
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "in use by another process" in lines[0]
        # `make run` starts with `cli.py init`: a second SafeLabel stops there, before its
        # server starts, with the same one line.
        init = run_cli(db_path, "init")
        assert init.returncode == 2 and "Traceback" not in init.stderr
        assert init.stderr.strip().splitlines() == lines
    finally:
        holder.kill()
        holder.wait()       # the lock goes with the process
    assert run_cli(db_path, "init").returncode == 0  # the file is intact afterwards


def test_operator_unlocks_and_resets_a_password_from_the_console(tmp_path, monkeypatch, capsys):
    """In-process (no 2 s interpreter start): an admin locked out by someone else's guesses,
    or who forgot the password, is helped by the operator without any admin logged in."""
    import cli
    from store import login_throttle, sessions, users
    from store.bootstrap import open_app_database
    from tests.conftest import PASSWORD

    db_path = tmp_path / "ops.duckdb"
    db = open_app_database(db_path, demo=False)
    admin = users.create_user(db, None, "root", "Root", PASSWORD, "admin")
    token = sessions.start_session(db, admin)
    for _ in range(8):
        login_throttle.claim_login_attempt(db, "root", None)
    assert login_throttle.wait_before_login(db, "root", None).total_seconds() > 0
    db.close()

    assert cli.main(["--db", str(db_path), "unlock", "root"]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("lantern-orbit-27\n"))
    assert cli.main(["--db", str(db_path), "reset-password", "root"]) == 0
    assert cli.main(["--db", str(db_path), "unlock", "nobody"]) == 1
    assert "no user 'nobody'" in capsys.readouterr().err

    db = open_app_database(db_path, demo=False)
    assert login_throttle.wait_before_login(db, "root", None).total_seconds() == 0
    assert users.check_password("lantern-orbit-27", users.login_record(db, "root").password_hash)
    assert sessions.session_user_id(db, token) is None          # the old session ended
    db.close()


def test_stats_does_not_load_the_heavy_modules(tmp_path):
    """Start-up is part of the interface (bench/bench_cli.py times it): `--help` and `stats`
    must not import pandas, pyarrow or streamlit (about 1 s of the old start-up)."""
    db_path = tmp_path / "light.duckdb"
    assert run_cli(db_path, "init").returncode == 0
    probe = ("import sys, cli; code = cli.main(sys.argv[1:]); "
             "print(sorted(m for m in ('pandas', 'pyarrow', 'streamlit') if m in sys.modules))")
    env = {**os.environ, "SAFELABEL_DB": str(db_path), "SAFELABEL_DEMO": "0"}
    for args in (["stats", "--project", "nope"], ["create-project", "P", "--kind", "label"],
                 ["stats", "--project", "P"]):
        result = subprocess.run([sys.executable, "-c", probe, *args], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.stdout.strip().splitlines()[-1] == "[]", (args, result.stdout, result.stderr)
    control = subprocess.run([sys.executable, "-c", "import sys, store.dashboard; "
                              "print('pandas' in sys.modules)"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert control.stdout.strip() == "True"          # the probe does see pandas when it loads
