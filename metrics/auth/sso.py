"""Single sign-on: an e-mail the identity provider vouched for → an account → a role.

Streamlit's ``st.login`` (OIDC, configured in ``.streamlit/secrets.toml`` ``[auth]``) proves
the e-mail; the accounts file decides the role (``users add NAME --role R --email E``). An
e-mail no account carries, or a disabled account's, gets no access.
"""

from __future__ import annotations

from pathlib import Path

from metrics.auth import User
from metrics.auth.accounts import Accounts


def sso_user(data_dir: Path | str | None, email: str | None, *, verified: bool | None = None) -> User | None:
    """The user whose account carries ``email`` (case-insensitive), or None. An e-mail the
    provider marks unverified (``email_verified`` false) is refused."""
    if not email or verified is False:
        return None
    acc = Accounts(data_dir).by_email(email)
    if acc is None or acc.disabled:
        return None
    return acc.user


def configured(auth_section: object) -> bool:
    """Whether a ``[auth]`` secrets section is complete enough to offer ``st.login``."""
    if not hasattr(auth_section, "get"):
        return False
    if auth_section.get("redirect_uri") and auth_section.get("cookie_secret"):
        return bool(auth_section.get("client_id") or any(
            hasattr(v, "get") and v.get("client_id") for v in auth_section.values()))
    return False


def providers(auth_section: object) -> list[str | None]:
    """Named providers (``[auth.NAME]`` subsections), or ``[None]`` for the single default one."""
    if not configured(auth_section):
        return []
    named = [k for k, v in auth_section.items() if hasattr(v, "get") and v.get("client_id")]
    return named or [None]
