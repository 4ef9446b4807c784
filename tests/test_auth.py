"""Access control in the core: accounts, hashes, first-start admin, login limits, timing,
roles at the function layer, sessions, SSO mapping, audit log, the users CLI."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import stat
import statistics
import subprocess
import sys
import time

import pytest

from metrics.auth import SYSTEM, PermissionDenied, User, audit, limits, require, sessions, sso
from metrics.auth.accounts import (
    ACCOUNTS_FILE,
    INITIAL_PASSWORD_FILE,
    AccountError,
    Accounts,
    LoginRefused,
    ensure_admin,
)
from tests.conftest import REPO

ADMIN = User("root-admin", "admin")
PW = "correct horse battery"


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """Two accounts, hashed once for the module (argon2 is slow on purpose)."""
    d = tmp_path_factory.mktemp("accounts")
    a = Accounts(d)
    a.add(SYSTEM, "root-admin", "admin", PW)
    a.add(SYSTEM, "alice", "viewer", PW, email="Alice@Example.org")
    return d


@pytest.fixture
def acc(template, tmp_path, monkeypatch):
    for key in ("ANONYMOUS", "LOGIN_MAX_FAILURES", "LOGIN_WINDOW_MINUTES", "PASSWORD_MIN_LENGTH",
                "SESSION_IDLE_HOURS"):
        monkeypatch.delenv(f"RRTT_{key}", raising=False)
    shutil.copy2(template / ACCOUNTS_FILE, tmp_path / ACCOUNTS_FILE)
    shutil.copy2(template / audit.AUDIT_FILE, tmp_path / audit.AUDIT_FILE)
    return Accounts(tmp_path)


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_accounts_file_is_private_and_holds_only_argon2_hashes(acc):
    assert mode(acc.path) == 0o600
    raw = acc.path.read_text()
    assert PW not in raw
    users = json.loads(raw)["users"]
    assert all(u["hash"].startswith("$argon2id$") for u in users.values())
    assert users["alice"]["hash"] != users["root-admin"]["hash"]   # salted


def test_first_start_creates_admin_once_with_a_one_time_file(tmp_path):
    said = []
    password = ensure_admin(tmp_path, announce=said.append)
    assert password and len(password) >= 16
    assert len(said) == 1 and password in said[0]
    secret = tmp_path / INITIAL_PASSWORD_FILE
    assert mode(secret) == 0o600 and password in secret.read_text()
    assert password not in (tmp_path / ACCOUNTS_FILE).read_text()
    assert ensure_admin(tmp_path, announce=said.append) is None and len(said) == 1
    user = Accounts(tmp_path).authenticate("admin", password)
    assert user == User("admin", "admin")
    assert not secret.exists(), "the one-time file goes after the first sign-in"


def test_authenticate_outcomes(acc):
    assert acc.authenticate("Alice", PW) == User("alice", "viewer")     # names are case-folded
    assert acc.authenticate("ａｌｉｃｅ", PW) == User("alice", "viewer")   # and NFKC-normalised
    for name, pw in [("alice", "wrong password!"), ("nobody", PW), ("", ""), ("alice", "")]:
        with pytest.raises(LoginRefused) as e:
            acc.authenticate(name, pw)
        assert e.value.reason == "bad_credentials"
    acc.disable(ADMIN, "alice")
    with pytest.raises(LoginRefused) as e:
        acc.authenticate("alice", PW)
    assert e.value.reason == "disabled"
    with pytest.raises(LoginRefused) as e:      # a wrong password does not learn it is disabled
        acc.authenticate("alice", "wrong password!")
    assert e.value.reason == "bad_credentials"


def test_failed_logins_lock_the_name_for_the_window(acc, monkeypatch):
    monkeypatch.setenv("RRTT_LOGIN_MAX_FAILURES", "3")
    for _ in range(3):
        with pytest.raises(LoginRefused):
            acc.authenticate("alice", "guess guess guess")
    with pytest.raises(LoginRefused) as e:    # now even the right password is refused
        acc.authenticate("alice", PW)
    assert e.value.reason == "locked" and 0 < e.value.retry_after <= 15 * 60 + 1
    assert acc.authenticate("root-admin", PW)  # other names are not affected
    assert limits.locked_for(acc.dir, "alice", now=time.time() + 15 * 60 + 2) == 0
    later = time.time() + 15 * 60 + 2
    monkeypatch.setattr(limits.time, "time", lambda: later)   # the window has passed
    assert acc.authenticate("alice", PW)
    assert limits.failures(acc.dir, "alice") == 0
    assert mode(acc.dir / limits.FAILURES_FILE) == 0o600


def test_unknown_names_are_counted_and_locked_like_known_ones(acc, monkeypatch):
    monkeypatch.setenv("RRTT_LOGIN_MAX_FAILURES", "2")
    for name in ("alice", "ghost"):
        for _ in range(2):
            with pytest.raises(LoginRefused):
                acc.authenticate(name, "guess guess guess")
        with pytest.raises(LoginRefused) as e:
            acc.authenticate(name, "guess guess guess")
        assert e.value.reason == "locked"


def test_unknown_user_takes_as_long_as_a_wrong_password(acc):
    def timed(name):
        t = time.perf_counter()
        with pytest.raises(LoginRefused):
            acc.authenticate(name, "not the password")
        return time.perf_counter() - t
    timed("nobody-warmup")
    known, unknown = [], []
    for i in range(4):
        known.append(timed("alice"))
        unknown.append(timed(f"nobody{i}"))
        limits.reset(acc.dir, "alice")
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.6 < ratio < 1.6, (known, unknown)
    assert statistics.median(unknown) > 0.02    # a real argon2 verification, not a shortcut


@pytest.mark.parametrize("name", ["../etc/passwd", "a/b", "..", ".hidden", "-flag", "a\\b", "a b",
                                  "x" * 65, "nul\x00", "", "a..b", "<script>", "anonymous", "System",
                                  "cli:root"])
def test_path_like_and_odd_names_are_refused(acc, name):
    before = sorted(p.name for p in acc.dir.iterdir())
    with pytest.raises(AccountError) as e:
        acc.add(ADMIN, name, "viewer", PW)
    assert e.value.code == "bad_name"
    assert sorted(p.name for p in acc.dir.iterdir()) == before


def test_chinese_names_and_duplicates(acc):
    acc.add(ADMIN, "张三", "analyst", PW)
    assert acc.authenticate("张三", PW) == User("张三", "analyst")
    with pytest.raises(AccountError) as e:
        acc.add(ADMIN, "ALICE", "viewer", PW)
    assert e.value.code == "user_exists"
    with pytest.raises(AccountError) as e:
        acc.add(ADMIN, "bob", "viewer", PW, email="alice@example.ORG")
    assert e.value.code == "email_exists"
    with pytest.raises(AccountError) as e:
        acc.add(ADMIN, "bob", "superuser", PW)
    assert e.value.code == "bad_role"


def test_minimum_password_length_comes_from_settings(acc, monkeypatch):
    with pytest.raises(AccountError) as e:
        acc.add(ADMIN, "bob", "viewer", "short")
    assert e.value.code == "password_too_short" and e.value.detail["minimum"] == 10
    (acc.dir / "rrtt.toml").write_text("password_min_length = 24\n")
    with pytest.raises(AccountError):
        acc.set_password(ADMIN, "alice", "x" * 23)
    acc.set_password(ADMIN, "alice", "x" * 24)
    assert acc.authenticate("alice", "x" * 24)


@pytest.mark.parametrize("actor", [User("alice", "viewer"), User("ann", "analyst"), None,
                                   User("x", "root"), "admin"])
def test_account_changes_refuse_anyone_but_an_admin(acc, actor):
    before = acc.path.read_bytes()
    for change in (lambda: acc.add(actor, "mallory", "admin", PW),
                   lambda: acc.set_role(actor, "alice", "admin"),
                   lambda: acc.set_password(actor, "root-admin", "mallory-owns-it"),
                   lambda: acc.disable(actor, "root-admin"),
                   lambda: acc.set_email(actor, "root-admin", "m@evil.org")):
        with pytest.raises(PermissionDenied):
            change()
    assert acc.path.read_bytes() == before


def test_a_duck_typed_admin_is_not_a_user():
    class Fake:
        name, role = "mallory", "admin"

        def can(self, role):
            return True
    with pytest.raises(PermissionDenied):
        require(Fake(), "admin")


def test_viewer_calling_publish_is_refused(tmp_path):
    """The store's privileged functions take the acting User (defence in depth)."""
    from metrics.store import Store
    params = inspect.signature(Store.publish).parameters
    if "str" in str(params["user"].annotation):
        pytest.skip("Store.publish still takes a user name (the store rewrite wires require())")
    import pandas as pd
    store = Store(tmp_path)
    facts = pd.DataFrame([("990121101001", "population", "2024Q2", 500.0)],
                         columns=["region_code", "element_code", "period", "value"])
    with pytest.raises(PermissionDenied):
        store.publish(facts, user=User("alice", "viewer"), comment="", source_name="x.csv",
                      source_sha256="0")
    assert store.snapshots() == []


def test_the_last_admin_cannot_be_disabled_or_demoted(acc):
    for change in (lambda: acc.disable(ADMIN, "root-admin"),
                   lambda: acc.set_role(ADMIN, "root-admin", "viewer")):
        with pytest.raises(AccountError) as e:
            change()
        assert e.value.code == "last_admin"
    acc.set_role(ADMIN, "alice", "admin")
    acc.disable(ADMIN, "root-admin")
    assert acc.get("root-admin").disabled


def test_sessions_follow_the_accounts_file(acc, monkeypatch):
    now = time.time()
    alice = User("alice", "viewer")
    v = sessions.resolve(acc.dir, alice, "password", now - 60, now=now)
    assert v.user == alice and v.ended is None
    v = sessions.resolve(acc.dir, alice, "password", now - 8 * 3600 - 1, now=now)
    assert v.user is None and v.ended == "expired"
    monkeypatch.setenv("RRTT_SESSION_IDLE_HOURS", "0.5")
    assert sessions.resolve(acc.dir, alice, "password", now - 1801, now=now).ended == "expired"
    acc.set_role(ADMIN, "alice", "analyst")
    assert sessions.resolve(acc.dir, alice, "password", now, now=now).user == User("alice", "analyst")
    acc.disable(ADMIN, "alice")
    assert sessions.resolve(acc.dir, alice, "password", now, now=now).ended == "disabled"
    assert sessions.resolve(acc.dir, User("ghost", "admin"), "password", now, now=now).ended == "unknown"
    for forged in ({"name": "root-admin", "role": "admin"}, "root-admin", ("root-admin", "admin")):
        assert sessions.resolve(acc.dir, forged, "password", now, now=now).user is None
    assert sessions.resolve(acc.dir, User("root-admin", "admin"), None, now, now=now).user is None
    monkeypatch.setenv("RRTT_ANONYMOUS", "1")
    assert sessions.resolve(acc.dir, None, None, None, now=now).user == sessions.ANONYMOUS
    v = sessions.resolve(acc.dir, alice, "password", now, now=now)
    assert v.user == sessions.ANONYMOUS and v.ended == "disabled"


def test_sso_maps_verified_emails_of_active_accounts(acc):
    assert sso.sso_user(acc.dir, "ALICE@example.org") == User("alice", "viewer")
    assert sso.sso_user(acc.dir, "alice@example.org", verified=True) == User("alice", "viewer")
    assert sso.sso_user(acc.dir, "alice@example.org", verified=False) is None
    assert sso.sso_user(acc.dir, "stranger@example.org") is None
    assert sso.sso_user(acc.dir, None) is None and sso.sso_user(acc.dir, "") is None
    acc.disable(ADMIN, "alice")
    assert sso.sso_user(acc.dir, "alice@example.org") is None
    full = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s",
            "client_id": "c", "client_secret": "x", "server_metadata_url": "https://id/.well-known"}
    assert sso.configured(full) and sso.providers(full) == [None]
    named = {"redirect_uri": "r", "cookie_secret": "s", "corp": {"client_id": "c"}}
    assert sso.providers(named) == ["corp"]
    assert not sso.configured({}) and not sso.configured({"client_id": "c"}) and sso.providers({}) == []


def test_audit_log_records_logins_and_changes_without_passwords(acc):
    acc.authenticate("alice", PW)
    with pytest.raises(LoginRefused):
        acc.authenticate("alice", "wrong-guess-1")
    with pytest.raises(LoginRefused):
        acc.authenticate("my-secret-typed-as-name", "wrong-guess-2")
    acc.set_role(ADMIN, "alice", "analyst")
    entries = audit.read(acc.dir)
    actions = [e["action"] for e in entries]
    assert actions[:2] == ["user_add", "user_add"]
    assert actions[2:] == ["login", "login_failed", "login_failed", "user_role"]
    assert entries[-1]["user"] == "root-admin" and entries[-1]["target"] == "alice"
    assert entries[-1]["new_role"] == "analyst"
    assert entries[4]["user"].startswith("<unknown m")     # unknown names are masked
    raw = (acc.dir / audit.AUDIT_FILE).read_text()
    for secret in (PW, "wrong-guess-1", "wrong-guess-2", "my-secret-typed-as-name"):
        assert secret not in raw
    assert mode(acc.dir / audit.AUDIT_FILE) == 0o600


def test_audit_filter_and_csv_export(tmp_path):
    audit.record(tmp_path, User("ann", "analyst"), "publish", snapshot=3, comment="=HYPERLINK(\"x\")")
    audit.record(tmp_path, User("bob", "admin"), "user_disable", target="ann")
    with open(tmp_path / audit.AUDIT_FILE, "a") as fh:
        fh.write('{"torn": \n')
    entries = audit.read(tmp_path)
    assert [e["action"] for e in entries] == ["publish", "user_disable", "unreadable"]
    assert [e["user"] for e in audit.filter_entries(entries, user="bob")] == ["bob"]
    assert len(audit.filter_entries(entries, actions=["publish"])) == 1
    assert len(audit.filter_entries(entries, text="HYPERLINK")) == 1
    import datetime as dt
    assert audit.filter_entries(entries, since=dt.date.today() + dt.timedelta(days=1)) == []
    csv = audit.to_csv(entries).decode("utf-8-sig")
    assert csv.splitlines()[0] == "at,user,role,action,detail"
    assert "ann" in csv and "\"'snapshot=3" not in csv
    assert ",=" not in csv and "'=" not in csv.split("\n")[0]


def run_cli(*args, data_dir, stdin=""):
    return subprocess.run([sys.executable, "-m", "metrics", "--data-dir", str(data_dir), *args],
                          cwd=REPO, capture_output=True, text=True, input=stdin, timeout=60)


def test_users_cli(tmp_path):
    r = run_cli("users", "add", "Carol", "--role", "analyst", "--email", "carol@x.org",
                data_dir=tmp_path, stdin="a-long-password\n")
    assert r.returncode == 0, r.stderr
    r = run_cli("users", "add", "dave", "--role", "viewer", data_dir=tmp_path, stdin="short\n")
    assert r.returncode == 1 and "至少需要 10 个字符" in r.stderr
    r = run_cli("users", "add", "../x", "--role", "viewer", data_dir=tmp_path, stdin="a-long-password\n")
    assert r.returncode == 1 and "无效" in r.stderr
    r = run_cli("users", "passwd", "carol", "--random", data_dir=tmp_path)
    assert r.returncode == 0
    new = r.stdout.split("：")[1].split()[0]
    assert Accounts(tmp_path).authenticate("carol", new) == User("carol", "analyst")
    r = run_cli("users", "passwd", "nobody", data_dir=tmp_path, stdin="a-long-password\n")
    assert r.returncode == 1
    assert run_cli("users", "disable", "carol", data_dir=tmp_path).returncode == 0
    listed = json.loads(run_cli("users", "list", "--json", data_dir=tmp_path).stdout)
    assert [(u["name"], u["role"], u["disabled"], u["email"]) for u in listed] == [
        ("carol", "analyst", True, "carol@x.org")]
    assert "hash" not in listed[0]
    assert run_cli("users", "role", "carol", "admin", data_dir=tmp_path).returncode == 0
    assert run_cli("users", "enable", "carol", data_dir=tmp_path).returncode == 0
    assert Accounts(tmp_path).get("carol").role == "admin"
    log = run_cli("audit", "--csv", data_dir=tmp_path).stdout
    assert "user_disable" in log and "cli:" in log
    for f in tmp_path.iterdir():
        if f.is_file():
            assert "a-long-password" not in f.read_text(errors="replace"), f


def test_auth_core_imports_without_streamlit():
    code = ("import sys, metrics.auth.accounts, metrics.auth.sessions, metrics.auth.sso, "
            "metrics.auth.cli, metrics.auth.limits, metrics.auth.audit; "
            "assert 'streamlit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def test_transport_settings_stay_safe():
    config = (REPO / ".streamlit" / "config.toml").read_text()
    assert "enableXsrfProtection = true" in config
    assert "ADDRESS ?= 127.0.0.1" in (REPO / "Makefile").read_text()


def test_a_corrupt_accounts_file_is_never_replaced(tmp_path):
    from metrics.auth.accounts import AccountsUnreadable
    (tmp_path / ACCOUNTS_FILE).write_text('{"users": [1, 2]')
    with pytest.raises(AccountsUnreadable):
        ensure_admin(tmp_path, announce=lambda m: None)
    with pytest.raises(AccountsUnreadable):
        Accounts(tmp_path).authenticate("admin", "whatever-password")
    assert (tmp_path / ACCOUNTS_FILE).read_text() == '{"users": [1, 2]'
    assert not (tmp_path / INITIAL_PASSWORD_FILE).exists()


def test_own_password_change_needs_the_current_one(acc, monkeypatch):
    from metrics.auth.accounts import LoginRefused as Refused
    alice = User("alice", "viewer")
    with pytest.raises(Refused):
        acc.change_own_password(alice, "not the current one", "brand-new-password")
    with pytest.raises(AccountError):
        acc.change_own_password(alice, PW, "short")
    acc.change_own_password(alice, PW, "brand-new-password")
    assert acc.authenticate("alice", "brand-new-password") == alice
    entries = audit.read(acc.dir)
    assert [e["action"] for e in entries][-3:] == ["user_passwd_own_failed", "user_passwd_own", "login"]
    assert entries[-2]["user"] == "alice" and entries[-2]["role"] == "viewer"
    monkeypatch.setenv("RRTT_LOGIN_MAX_FAILURES", "2")
    for _ in range(2):
        with pytest.raises(Refused):
            acc.change_own_password(alice, "guess-guess-guess", "another-new-password")
    with pytest.raises(Refused) as e:       # guessing through this form is limited too
        acc.change_own_password(alice, "brand-new-password", "another-new-password")
    assert e.value.reason == "locked"
