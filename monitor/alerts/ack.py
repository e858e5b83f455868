"""Signed acknowledge links: ``/ack/<token>`` tokens that name a mention, expire, and cannot be forged.

A token is ``<mention id>.<expiry unix time>.<HMAC-SHA256>`` keyed with
``dashboard.secret_key``. It works once: the web endpoint refuses a mention
that is already acknowledged, so a forwarded or replayed link changes nothing.
Pure: pass the key and ``now``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime, timedelta


class TokenError(ValueError):
    """The link is malformed, forged or expired; the message is safe to show to the clicker."""


def _mac(key: bytes, payload: str, purpose: str = "ack") -> str:
    # The purpose is part of the MAC: an acknowledge token cannot be replayed as a claim token.
    digest = hmac.new(key, f"{purpose}:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign(mention_id: int, key: str, now: datetime, valid_for: timedelta, *, purpose: str = "ack") -> str:
    """A token to acknowledge (``purpose="claim"``: to claim) ``mention_id`` until ``now + valid_for``."""
    expires = int((now + valid_for).timestamp())
    payload = f"{mention_id}.{expires}"
    return f"{payload}.{_mac(key.encode(), payload, purpose)}"


def verify(token: str, key: str, now: datetime, *, purpose: str = "ack") -> int:
    """The mention id in a valid, unexpired token; raises :class:`TokenError` otherwise."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        raise TokenError("this acknowledge link is malformed; open the mention from the dashboard instead")
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _mac(key.encode(), payload, purpose)):
        raise TokenError("this acknowledge link is not valid (was it copied completely?)")
    if now.timestamp() > int(parts[1]):
        raise TokenError("this acknowledge link has expired; acknowledge the mention from the dashboard")
    return int(parts[0])


def ack_url(
    public_url: str | None, key: str | None, mention_id: int, now: datetime, hours: float
) -> str | None:
    """The full link for an alert, or None when ``dashboard.public_url``/``secret_key`` are not set."""
    if not public_url or not key:
        return None
    token = sign(mention_id, key, now, timedelta(hours=hours))
    return f"{public_url.rstrip('/')}/ack/{token}"


def claim_url(
    public_url: str | None, key: str | None, mention_id: int, now: datetime, hours: float
) -> str | None:
    """A ``/claim/<token>`` link (take ownership before replying), or None without url/key."""
    if not public_url or not key:
        return None
    token = sign(mention_id, key, now, timedelta(hours=hours), purpose="claim")
    return f"{public_url.rstrip('/')}/claim/{token}"
