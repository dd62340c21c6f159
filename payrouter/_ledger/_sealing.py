"""Attempt requests sealed at rest: AES-256-GCM, bound to their attempt, under rotating keys.

A replaying provider's attempt keeps its request (card token, network token, IBAN) so an
idempotent replay can resend it exactly. The ledger is read by operators and copied into
backups, so the request is stored sealed: AES-256-GCM with a fresh 96-bit nonce, and the
order id and attempt number as associated data, so a value copied onto another attempt does
not open. A sealed value reads `payrouter-sealed:1:<key id>:<nonce and ciphertext>`; the key
id is a digest of the key, so a key list needs no names. The first key seals, every key opens
(rotation: put the new key first, keep the old ones until their requests are past every
replay window). Values written before sealing (JSON in clear) are read as they are.

Keys are 32 random bytes in URL-safe base64 (`payrouter ledger-key` prints a new one). Without a
configured key, a SQLite file ledger keeps one in a file beside it, created 0600 (with a
logged warning) when the first request is sealed; an in-memory ledger uses a key that dies
with it, as its rows do; a server ledger needs configured keys.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import secrets
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .._errors import ConfigurationError

_LOG: Final = logging.getLogger("payrouter")

__all__ = [
    "ACTION_PURPOSE",
    "NO_KEY",
    "LedgerKeys",
    "RequestSeal",
    "SealedRequestError",
    "key_file_for",
    "new_key",
    "sealed_by",
]

_PREFIX: Final = "payrouter-sealed:1:"
ACTION_PURPOSE: Final = "client_secret"
"""The purpose a kept action's client secret is sealed for (bound into its associated data)."""
_NONCE_BYTES: Final = 12
_KEY_BYTES: Final = 32
NO_KEY: Final = (
    "no ledger key is configured, and a replaying provider's requests are kept only sealed: "
    'set `ledger_keys: ["${PAYROUTER_LEDGER_KEY}"]` in the config (or Router(ledger_keys=...)) '
    "and export the key (`payrouter ledger-key` prints a new one)"
)


class SealedRequestError(Exception):
    """A kept request cannot be opened: its key is not configured, or it was altered."""


def new_key() -> str:
    """A fresh ledger key: 32 random bytes, URL-safe base64 (44 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(_KEY_BYTES)).decode("ascii")


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"payrouter ledger key\0" + key).hexdigest()[:12]


def sealed_by(stored: str) -> str | None:
    """The id of the key a stored value was sealed under; None for a value kept in clear."""
    if not stored.startswith(_PREFIX):
        return None
    return stored.removeprefix(_PREFIX).partition(":")[0]


def _associated(order_id: str, number: int, purpose: str | None) -> bytes:
    """The attempt a value belongs to, encoded injectively (JSON quotes any character), and
    what the value is when it is not the attempt's request (`ACTION_PURPOSE`): a sealed value
    moved into another column of the same attempt does not open either."""
    bound: list[str | int] = [order_id, number] if purpose is None else [order_id, number, purpose]
    return json.dumps(bound).encode("utf-8")


class LedgerKeys:
    """The keys that seal and open kept requests: the first seals, all open.

    Raises:
        ConfigurationError: no key, or a key that is not 32 bytes of URL-safe base64; the
            message says which (by position) and never shows it.
    """

    def __init__(self, keys: Sequence[str], *, origin: str = "ledger_keys") -> None:
        if not keys:
            raise ConfigurationError(f"{origin}: list at least one key")
        self._ciphers: dict[str, AESGCM] = {}
        self._sealing = ""
        for index, text in enumerate(keys):
            key = _decode_key(text, f"{origin}[{index}]")
            key_id = _key_id(key)
            self._ciphers.setdefault(key_id, AESGCM(key))
            self._sealing = self._sealing or key_id

    @property
    def sealing_id(self) -> str:
        """The id of the key new requests are sealed with (it is written into each value)."""
        return self._sealing

    def seal(self, text: str, order_id: str, number: int, purpose: str | None = None) -> str:
        """`text` sealed for attempt `number` of `order_id` (as its `purpose`, the request
        when None) under the first key."""
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._ciphers[self._sealing].encrypt(
            nonce, text.encode("utf-8"), _associated(order_id, number, purpose)
        )
        body = base64.urlsafe_b64encode(nonce + sealed).decode("ascii")
        return f"{_PREFIX}{self._sealing}:{body}"

    def open(self, stored: str, order_id: str, number: int, purpose: str | None = None) -> str:
        """The value kept for that attempt as `purpose` (the request when None); a value in
        clear (written before sealing) as is.

        Raises:
            SealedRequestError: the value's key is not among these keys, or the value was
                altered or belongs to another attempt; the message names the key id.
        """
        if not stored.startswith(_PREFIX):
            return stored
        key_id, _, body = stored.removeprefix(_PREFIX).partition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise SealedRequestError(
                f"sealed with ledger key {key_id}, which is not among the configured keys"
            )
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
            plain = cipher.decrypt(
                raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _associated(order_id, number, purpose)
            )
        except (InvalidTag, ValueError, binascii.Error):
            raise SealedRequestError(
                f"does not open under ledger key {key_id}: altered, or from another attempt"
            ) from None
        return plain.decode("utf-8")


class RequestSeal:
    """A ledger's sealing of kept requests: its configured keys, else its key file (SQLite),
    else a key for its lifetime (in memory), else none (a server: refused when needed).

    Args:
        keys: the configured keys, or None.
        key_file_beside: the SQLite ledger file, when the ledger is one.
        in_memory: an in-memory ledger, whose rows die with the process.
    """

    def __init__(
        self, keys: Sequence[str] | None, key_file_beside: Path | None, *, in_memory: bool
    ) -> None:
        self.keys = None if keys is None else LedgerKeys(keys)
        self._beside = key_file_beside
        self._in_memory = in_memory

    def prepare(self) -> None:
        """When the ledger opens (on its thread): an existing key file's key, or a fresh one
        for an in-memory ledger."""
        if self.keys is None and self._beside is not None:
            self.keys = key_file_for(self._beside, create=False)
        elif self.keys is None and self._in_memory:
            self.keys = LedgerKeys([new_key()])

    @property
    def needs_key_file(self) -> bool:
        """No key yet, but a key file may hold one (or be created for the first seal)."""
        return self.keys is None and self._beside is not None

    def find_key_file(self, *, create: bool) -> None:
        """Read the key file, which another process may have created since this ledger
        opened; with `create`, create it if it is still missing. On the ledger's thread."""
        assert self._beside is not None
        self.keys = key_file_for(self._beside, create=create)

    def require(self, *, replaying: bool) -> None:
        """Refuse a ledger that would have to keep a replaying provider's requests and has no
        key for them (a server ledger without `ledger_keys`).

        Raises:
            ConfigurationError: naming the setting and the variable.
        """
        if replaying and self.keys is None and self._beside is None and not self._in_memory:
            raise ConfigurationError(f"ledger: {NO_KEY}")

    def seal(self, text: str, order_id: str, number: int) -> str:
        """A request as the ledger stores it: sealed, never in clear.

        Raises:
            ConfigurationError: there is no key (a server ledger without `ledger_keys`).
        """
        if self.keys is None:
            raise ConfigurationError(f"ledger: {NO_KEY}")
        return self.keys.seal(text, order_id, number)

    def open(self, stored: str, order_id: str, number: int, purpose: str | None = None) -> str:
        """A stored request (or `purpose` value) readable again; one in clear (from before
        sealing) as it is.

        Raises:
            SealedRequestError: it is sealed and does not open under these keys, or none.
        """
        if self.keys is None:
            if stored.startswith(_PREFIX):
                raise SealedRequestError("sealed, and no ledger key is configured")
            return stored
        return self.keys.open(stored, order_id, number, purpose)

    def open_secret(self, stored: str, order_id: str, number: int) -> str | None:
        """A kept action's client secret opened (on the ledger's thread), or None when it does
        not open (its key retired, or altered): the action then comes back without it, and a
        warning names the attempt and the key id, never the secret. Never raises."""
        try:
            if self.needs_key_file:  # another process may have created it since
                self.find_key_file(create=False)
            return self.open(stored, order_id, number, ACTION_PURPOSE)
        except (SealedRequestError, ConfigurationError) as error:
            _LOG.warning(
                "the client secret kept for attempt %d of order %r does not open (%s): its "
                "action is returned without it",
                number,
                order_id,
                error,
            )
            return None


def _decode_key(text: str, origin: str) -> bytes:
    try:
        key = base64.urlsafe_b64decode(text.strip().encode("ascii"))
    except (ValueError, binascii.Error):
        key = b""
    if len(key) != _KEY_BYTES:
        raise ConfigurationError(
            f"{origin}: a ledger key is 32 random bytes in URL-safe base64 (44 characters); "
            "`payrouter ledger-key` prints a new one"
        )
    return key


def key_file_for(ledger_file: Path, *, create: bool) -> LedgerKeys | None:
    """The keys kept beside a SQLite ledger file (`<file>.key`, one a line, the first seals),
    created 0600 when `create` (the first request to seal); None when there is none and
    `create` is false. A file others can read is used, with a logged warning.

    Two processes opening a fresh ledger at once agree on one key: it is written to a private
    temporary file and linked into place, and the loser of the link reads the winner's.

    Raises:
        ConfigurationError: the key file cannot be read or created, or holds no valid key.
    """
    path = ledger_file.with_name(ledger_file.name + ".key")
    try:
        if not path.exists():
            if not create:
                return None
            _create(path)
        text = path.read_text(encoding="ascii")
        mode = stat.S_IMODE(path.stat().st_mode)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigurationError(
            f"ledger key file {path} cannot be used ({error}); configure ledger_keys instead"
        ) from None
    if mode & 0o077:
        _LOG.warning("ledger key file %s can be read by others (mode %o): chmod 600 it", path, mode)
    return LedgerKeys(text.split(), origin=f"ledger key file {path}")


def _create(path: Path) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="ascii") as handle:
            handle.write(new_key() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another process created it first: its key is the one
    finally:
        temporary.unlink(missing_ok=True)
    _LOG.warning(
        "created ledger key file %s (0600): it seals the card tokens and IBANs kept for "
        "replays; back it up apart from the ledger, or configure ledger_keys",
        path,
    )
