"""Which user a UI session acts as on this run — the rules, without Streamlit.

A session holds a ``User`` and the time of its last run. On every run the gate asks
``resolve``: an idle session expires (setting ``session_idle_hours``); the user is looked up
again in the accounts file, so a disabled account is signed out and a changed role applies at
once; anything in the session that is not a ``User`` counts as nobody. Anonymous read-only
mode (setting ``anonymous``) gives a viewer named ``ANONYMOUS`` to a session nobody signed in.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from metrics import paths
from metrics.auth import User
from metrics.auth.accounts import Accounts

ANONYMOUS = User("anonymous", "viewer")
VIA_PASSWORD, VIA_SSO, VIA_ANONYMOUS = "password", "sso", "anonymous"


@dataclass(frozen=True)
class Verdict:
    user: User | None          # who this run acts as (None: show the sign-in page)
    via: str | None            # password | sso | anonymous
    ended: str | None = None   # why a signed-in session just ended: expired | disabled | unknown


def idle_expired(last_seen: float | None, now: float, idle_hours: float) -> bool:
    return last_seen is not None and now - float(last_seen) > idle_hours * 3600.0


def resolve(data_dir: Path | str, user: object, via: str | None, last_seen: float | None,
            now: float | None = None) -> Verdict:
    """The verdict for a session holding ``user`` (signed in ``via``), last run at ``last_seen``."""
    now = time.time() if now is None else now
    s = paths.settings(data_dir)
    anonymous = bool(s["anonymous"])
    signed_in = isinstance(user, User) and via in (VIA_PASSWORD, VIA_SSO)
    if signed_in:
        if idle_expired(last_seen, now, float(s["session_idle_hours"])):
            return Verdict(ANONYMOUS if anonymous else None, VIA_ANONYMOUS if anonymous else None,
                           ended="expired")
        current = Accounts(data_dir).get(user.name)
        if current is None or current.disabled:
            return Verdict(ANONYMOUS if anonymous else None, VIA_ANONYMOUS if anonymous else None,
                           ended="unknown" if current is None else "disabled")
        return Verdict(current.user, via)
    if anonymous:
        return Verdict(ANONYMOUS, VIA_ANONYMOUS)
    return Verdict(None, None)
