"""Accounts: ``<data dir>/users.json`` (mode 0600), argon2id hashes, never a plaintext password.

Every change takes the acting ``User``, calls ``require(actor, "admin")`` first and is audited.
``ensure_admin`` creates the first ``admin`` with a random password on the first start.
``authenticate`` answers in the same time for unknown names as for known ones (a dummy hash
is verified) and honours the per-name failure limit of ``metrics.auth.limits``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import re
import secrets
import sys
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from metrics import paths
from metrics.auth import ROLES, SYSTEM, User, audit, limits, require

ACCOUNTS_FILE = "users.json"
LOCK_FILE = ".users.lock"
INITIAL_PASSWORD_FILE = "initial_admin_password.txt"
FIRST_ADMIN = "admin"
# letters (also CJK), digits and . _ @ - ; no slash, no leading dot: a name never looks like a path
NAME_RE = re.compile(r"^[0-9a-z\u4e00-\u9fff][0-9a-z\u4e00-\u9fff._@-]{0,63}$")
EMAIL_RE = re.compile(r"^[^@\s/\\]{1,64}@[^@\s/\\]{1,190}\.[^@\s/\\]{1,63}$")

_HASHER = PasswordHasher()
_DUMMY_HASH: str | None = None


class AccountError(ValueError):
    """Bad input to an account change: ``code`` is a stable key of metrics.auth.text."""

    def __init__(self, code: str, **detail):
        super().__init__(code)
        self.code = code
        self.detail = detail


class AccountsUnreadable(OSError):
    """The accounts file exists but is not valid: nobody signs in until it is fixed."""


class LoginRefused(Exception):
    """``reason``: bad_credentials | disabled | locked (``retry_after`` seconds)."""

    def __init__(self, reason: str, retry_after: int = 0):
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    disabled: bool = False
    email: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_login_at: str | None = None

    @property
    def user(self) -> User:
        return User(self.name, self.role)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def normalise_name(name: str) -> str:
    """NFKC, trimmed, case-folded: 'Admin', 'ａｄｍｉｎ' and 'admin' are one account."""
    return unicodedata.normalize("NFKC", str(name or "")).strip().casefold()


def normalise_email(email: str | None) -> str | None:
    if email is None or not str(email).strip():
        return None
    return unicodedata.normalize("NFKC", str(email)).strip().casefold()


RESERVED_NAMES = {"anonymous", "system"}   # the anonymous viewer and the demo/upgrade actor


def valid_name(name: str) -> bool:
    return bool(NAME_RE.match(name)) and ".." not in name and name not in RESERVED_NAMES


def check_password(password: str, data_dir: Path | str | None = None) -> None:
    """Refuse (AccountError) a password shorter than the configured minimum."""
    minimum = int(paths.settings(data_dir)["password_min_length"])
    if not isinstance(password, str) or len(password) < minimum:
        raise AccountError("password_too_short", minimum=minimum)


def random_password() -> str:
    return secrets.token_urlsafe(15)   # 20 characters, ~120 bits


def warm_up() -> None:
    """Make the dummy hash now, so even the first unknown name costs one verification only."""
    _dummy_hash()


def _dummy_hash() -> str:
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = _HASHER.hash(secrets.token_hex(16))
    return _DUMMY_HASH


class Accounts:
    """The accounts file of one data directory. Reads are lock-free (the file is replaced
    atomically); every change holds an exclusive lock for its read-modify-write."""

    def __init__(self, data_dir: Path | str | None = None):
        self.dir = paths.data_dir(data_dir)
        self.path = self.dir / ACCOUNTS_FILE

    # -- reading -------------------------------------------------------------------------
    def _load(self) -> dict[str, dict]:
        try:
            with open(self.path, encoding="utf-8") as fh:
                users = json.load(fh)["users"]
        except FileNotFoundError:
            return {}
        except (ValueError, KeyError, TypeError) as exc:   # never "repaired" by starting afresh
            raise AccountsUnreadable(f"{self.path}: {exc}") from exc
        if not isinstance(users, dict):
            raise AccountsUnreadable(f"{self.path}: no users table")
        return users

    @staticmethod
    def _account(name: str, rec: dict) -> Account:
        return Account(name=name, role=rec["role"], disabled=bool(rec.get("disabled")),
                       email=rec.get("email"), created_at=rec.get("created_at"),
                       updated_at=rec.get("updated_at"), last_login_at=rec.get("last_login_at"))

    def list(self) -> list[Account]:
        return [self._account(n, r) for n, r in sorted(self._load().items())]

    def get(self, name: str) -> Account | None:
        rec = self._load().get(normalise_name(name))
        return None if rec is None else self._account(normalise_name(name), rec)

    def by_email(self, email: str | None) -> Account | None:
        wanted = normalise_email(email)
        if wanted is None:
            return None
        for name, rec in self._load().items():
            if normalise_email(rec.get("email")) == wanted:
                return self._account(name, rec)
        return None

    def active_user(self, name: str) -> User | None:
        """The user as the accounts file says now (None when unknown or disabled)."""
        acc = self.get(name)
        return None if acc is None or acc.disabled else acc.user

    # -- writing -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self):
        self.dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _save(self, users: dict[str, dict]) -> None:
        tmp = self.path.with_name(f".{ACCOUNTS_FILE}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, json.dumps({"version": 1, "users": users}, ensure_ascii=False,
                                    indent=1, sort_keys=True).encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, self.path)

    def _change(self, actor: User, name: str, action: str, change, **detail) -> Account:
        require(actor, "admin")
        return self._write(actor, name, action, change, **detail)

    def _write(self, actor: User, name: str, action: str, change, **detail) -> Account:
        key = normalise_name(name)
        with self._locked():
            users = self._load()
            if key not in users:
                raise AccountError("unknown_user", name=key)
            rec = dict(users[key])
            change(rec, users)
            rec["updated_at"] = _now()
            users[key] = rec
            self._save(users)
        audit.record(self.dir, actor, action, target=key, **detail)
        return self._account(key, rec)

    def add(self, actor: User, name: str, role: str, password: str, email: str | None = None) -> Account:
        require(actor, "admin")
        key = normalise_name(name)
        if not valid_name(key):
            raise AccountError("bad_name", name=name)
        if role not in ROLES:
            raise AccountError("bad_role", role=role)
        check_password(password, self.dir)
        mail = self._check_email(email)
        digest = _HASHER.hash(password)
        with self._locked():
            users = self._load()
            if key in users:
                raise AccountError("user_exists", name=key)
            if mail and any(normalise_email(r.get("email")) == mail for r in users.values()):
                raise AccountError("email_exists", email=mail)
            now = _now()
            users[key] = {"role": role, "hash": digest, "disabled": False, "email": mail,
                          "created_at": now, "updated_at": now}
            self._save(users)
        audit.record(self.dir, actor, "user_add", target=key, new_role=role, email=mail)
        return self._account(key, users[key])

    def _check_email(self, email: str | None) -> str | None:
        mail = normalise_email(email)
        if mail is not None and not EMAIL_RE.match(mail):
            raise AccountError("bad_email", email=email)
        return mail

    def set_password(self, actor: User, name: str, password: str) -> Account:
        check_password(password, self.dir)
        digest = _HASHER.hash(password)
        acc = self._change(actor, name, "user_passwd",
                           lambda rec, users: rec.update(hash=digest))
        limits.reset(self.dir, acc.name)
        if acc.name == FIRST_ADMIN:
            (self.dir / INITIAL_PASSWORD_FILE).unlink(missing_ok=True)
        return acc

    def change_own_password(self, user: User, current: str, new: str) -> Account:
        """Any signed-in user's own password: the current one is checked like a sign-in
        (failures count towards the lock-out), the new one against the minimum length."""
        check_password(new, self.dir)
        key = normalise_name(user.name)
        retry = limits.locked_for(self.dir, key)
        if retry:
            raise LoginRefused("locked", retry_after=retry)
        rec = self._load().get(key)
        if rec is None or rec.get("disabled") or not _verify(rec["hash"], current or ""):
            limits.record_failure(self.dir, key)
            audit.record(self.dir, user, "user_passwd_own_failed")
            raise LoginRefused("bad_credentials")
        digest = _HASHER.hash(new)
        acc = self._write(user, key, "user_passwd_own", lambda rec, users: rec.update(hash=digest))
        if acc.name == FIRST_ADMIN:
            (self.dir / INITIAL_PASSWORD_FILE).unlink(missing_ok=True)
        return acc

    def set_role(self, actor: User, name: str, role: str) -> Account:
        if role not in ROLES:
            raise AccountError("bad_role", role=role)

        def change(rec, users):
            if rec["role"] == "admin" and role != "admin":
                self._keep_an_admin(users, normalise_name(name))
            rec["role"] = role
        return self._change(actor, name, "user_role", change, new_role=role)

    def set_email(self, actor: User, name: str, email: str | None) -> Account:
        mail = self._check_email(email)

        def change(rec, users):
            key = normalise_name(name)
            if mail and any(normalise_email(r.get("email")) == mail
                            for n, r in users.items() if n != key):
                raise AccountError("email_exists", email=mail)
            rec["email"] = mail
        return self._change(actor, name, "user_email", change, email=mail)

    def disable(self, actor: User, name: str) -> Account:
        def change(rec, users):
            if rec["role"] == "admin":
                self._keep_an_admin(users, normalise_name(name))
            rec["disabled"] = True
        return self._change(actor, name, "user_disable", change)

    def enable(self, actor: User, name: str) -> Account:
        acc = self._change(actor, name, "user_enable", lambda rec, users: rec.update(disabled=False))
        limits.reset(self.dir, acc.name)
        return acc

    @staticmethod
    def _keep_an_admin(users: dict[str, dict], leaving: str) -> None:
        others = [n for n, r in users.items()
                  if n != leaving and r["role"] == "admin" and not r.get("disabled")]
        if not others:
            raise AccountError("last_admin")

    # -- signing in ----------------------------------------------------------------------
    def authenticate(self, name: str, password: str) -> User:
        """The user, or LoginRefused. Unknown names cost one argon2 verification like known
        ones; a name over its failure limit is refused before any verification; every
        attempt is audited (unknown names masked: they may be a password typed in the
        wrong box)."""
        key = normalise_name(name)[:64]
        retry = limits.locked_for(self.dir, key)
        if retry:
            audit.record(self.dir, self._audit_name(key), "login_locked")
            raise LoginRefused("locked", retry_after=retry)
        rec = self._load().get(key)
        ok = _verify(rec["hash"] if rec else _dummy_hash(), password or "")
        if not ok or rec is None:
            limits.record_failure(self.dir, key)
            audit.record(self.dir, self._audit_name(key), "login_failed")
            raise LoginRefused("bad_credentials")
        if rec.get("disabled"):
            audit.record(self.dir, key, "login_refused_disabled")
            raise LoginRefused("disabled")
        limits.reset(self.dir, key)
        self._after_login(key, password, rec)
        user = User(key, rec["role"])
        audit.record(self.dir, user, "login", via="password")
        return user

    def _audit_name(self, key: str) -> str:
        if key in self._load():
            return key
        return f"<unknown {key[:1]}…({len(key)})>"

    def _after_login(self, key: str, password: str, rec: dict) -> None:
        """Remember the login time; rehash with current parameters; the one-time file goes
        once the first admin has signed in."""
        rehash = _HASHER.check_needs_rehash(rec["hash"])
        with self._locked():
            users = self._load()
            if key in users:
                users[key]["last_login_at"] = _now()
                if rehash:
                    users[key]["hash"] = _HASHER.hash(password)
                self._save(users)
        if key == FIRST_ADMIN:
            (self.dir / INITIAL_PASSWORD_FILE).unlink(missing_ok=True)

    def record_sso_login(self, user: User, email: str) -> None:
        with self._locked():
            users = self._load()
            if user.name in users:
                users[user.name]["last_login_at"] = _now()
                self._save(users)
        audit.record(self.dir, user, "login", via="sso", email=email)


def _verify(digest: str, password: str) -> bool:
    try:
        return _HASHER.verify(digest, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def ensure_admin(data_dir: Path | str | None = None, *, announce=None) -> str | None:
    """First start: when no account exists, create ``admin`` with a random password, print it
    once (``announce``, default stderr) and write it to a file only its owner may read.
    Returns the password when it created the account, else None."""
    acc = Accounts(data_dir)
    if acc.path.exists() and acc._load():
        return None
    password = random_password()
    with acc._locked():
        if acc._load():
            return None
        now = _now()
        acc._save({FIRST_ADMIN: {"role": "admin", "hash": _HASHER.hash(password), "disabled": False,
                                 "email": None, "created_at": now, "updated_at": now}})
        secret = acc.dir / INITIAL_PASSWORD_FILE
        secret.unlink(missing_ok=True)
        fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, f"{FIRST_ADMIN}\n{password}\n".encode())
        finally:
            os.close(fd)
    audit.record(acc.dir, SYSTEM, "user_add", target=FIRST_ADMIN, new_role="admin", first_start=True)
    message = (f"\n[rrtt] 首次启动：已创建管理员账户 {FIRST_ADMIN}，初始密码（仅显示这一次）：{password}\n"
               f"[rrtt] First start: created account {FIRST_ADMIN}; initial password (shown once): "
               f"{password}\n[rrtt] 亦写入 / also in {secret} (mode 0600, removed after the first sign-in)\n")
    (announce or (lambda m: print(m, file=sys.stderr, flush=True)))(message)
    return password
