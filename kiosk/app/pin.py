"""The operator PIN in front of the kiosk's settings (and its quit button).

The PIN is known only as a salted, memory-hard hash: scrypt (``hashlib.scrypt``, OpenSSL's;
N=2**14, r=8, p=1 — 16 MiB and tens of milliseconds per guess, see ``make bench``) written
as ``scrypt$N$r$p$<salt>$<hash>`` (base64). It comes, first found wins, from
``$CCCD_KIOSK_OPERATOR_PIN`` (the clear PIN, hashed at once with a fresh salt), the data
folder's ``operator-pin`` file (written by ``cccd-kiosk set-pin``, mode 0600), or
``[ui] operator_pin_hash`` in the config. The clear PIN is never stored, shown or logged;
checks compare digests in constant time.

Wrong PINs are counted in the data folder (``operator-pin.state``), so a restart does not
reset them: :data:`MAX_TRIES` wrong PINs in a row lock the prompt, for :data:`LOCK_S`
seconds the first time and twice as long each time after (at most :data:`MAX_LOCK_S`); the
right PIN ends the back-off. Only PINs typed on the prompt count — pressing Settings does
not — so a patient cannot lock staff out without trying PINs, and each lock ends by itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

#: Environment variable holding the clear operator PIN (instead of a stored hash).
PIN_ENV = "CCCD_KIOSK_OPERATOR_PIN"
#: The data folder's PIN hash file and lock-out state.
PIN_FILE = "operator-pin"
STATE_FILE = "operator-pin.state"
#: Shortest PIN ``set-pin`` accepts (digits only).
MIN_PIN_DIGITS = 6
#: Wrong PINs in a row before the prompt locks.
MAX_TRIES = 3
#: Seconds the first lock lasts; each further lock doubles it, up to MAX_LOCK_S.
LOCK_S = 60.0
MAX_LOCK_S = 3600.0
#: scrypt cost: N (CPU/memory), r (block size), p (parallelism); 128·N·r bytes = 16 MiB.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_MAXMEM = 64 * 1024 * 1024

PinResult = Literal["ok", "wrong", "locked", "unset"]


class PinFormatError(ValueError):
    """A stored PIN hash that is not ``scrypt$N$r$p$salt$hash``, or a PIN too short."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _scrypt(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=_MAXMEM, dklen=32)


def hash_pin(pin: str, *, salt: bytes | None = None) -> str:
    """``pin`` as ``scrypt$N$r$p$salt$hash`` with a fresh random salt (or ``salt``)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    digest = _scrypt(pin, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def parse_hash(text: str) -> tuple[int, int, int, bytes, bytes]:
    """(N, r, p, salt, digest) of a stored hash; :class:`PinFormatError` if it is not one."""
    parts = text.strip().split("$")
    try:
        if len(parts) != 6 or parts[0] != "scrypt":
            raise ValueError(parts[0])
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, digest = base64.b64decode(parts[4], validate=True), base64.b64decode(parts[5])
    except ValueError as exc:
        raise PinFormatError("not an operator PIN hash (scrypt$N$r$p$salt$hash)") from exc
    if not (2 <= n <= 2**20 and n & (n - 1) == 0 and 1 <= r <= 32 and 1 <= p <= 16):
        raise PinFormatError("scrypt parameters out of range")
    if len(salt) < 8 or len(digest) != 32:
        raise PinFormatError("salt or hash of the wrong length")
    return n, r, p, salt, digest


def check_new_pin(pin: str) -> None:
    """Refuse a PIN ``set-pin`` must not store: fewer than :data:`MIN_PIN_DIGITS` digits."""
    if not (pin.isascii() and pin.isdigit() and len(pin) >= MIN_PIN_DIGITS):
        raise PinFormatError(f"the operator PIN must be at least {MIN_PIN_DIGITS} digits")


def write_pin_file(folder: Path, pin: str) -> Path:
    """Hash ``pin`` into ``folder``'s PIN file (owner-only, replaced atomically); clears the
    lock-out state. Returns the file's path."""
    check_new_pin(pin)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / PIN_FILE
    tmp = folder / f".{PIN_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(hash_pin(pin) + "\n")
    os.replace(tmp, path)
    (folder / STATE_FILE).unlink(missing_ok=True)
    return path


class PinGate:
    """Checks operator PINs against a stored scrypt hash, with the persisted back-off above.

    ``state_path`` (None: in memory only) keeps the wrong-PIN count and the lock across
    restarts; ``clock`` (wall-clock seconds) is injectable so tests need not wait.
    """

    def __init__(
        self,
        stored: str | None,
        *,
        state_path: Path | None = None,
        max_tries: int = MAX_TRIES,
        lock_s: float = LOCK_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._stored = parse_hash(stored) if stored else None
        self.state_path = state_path
        self.max_tries = max_tries
        self.lock_s = lock_s
        self._clock = clock
        self._wrong, self._locks, self._locked_until = 0, 0, 0.0
        self._load()

    @classmethod
    def from_sources(
        cls,
        config_hash: str | None,
        data_dir: Path | None = None,
        environ: Mapping[str, str] | None = None,
        **kw: object,
    ) -> PinGate:
        """The gate for ``$CCCD_KIOSK_OPERATOR_PIN``, else ``data_dir``'s PIN file, else the
        config's hash; the lock-out state lives in ``data_dir`` when given."""
        env = os.environ if environ is None else environ
        stored = config_hash
        if data_dir is not None and (data_dir / PIN_FILE).is_file():
            stored = (data_dir / PIN_FILE).read_text(encoding="ascii").strip()
        if env.get(PIN_ENV):
            stored = hash_pin(env[PIN_ENV])
        state = data_dir / STATE_FILE if data_dir is not None else None
        return cls(stored, state_path=state, **kw)  # type: ignore[arg-type]

    # ---- persisted state ----------------------------------------------------------------

    def _load(self) -> None:
        if self.state_path is None or not self.state_path.is_file():
            return
        try:
            data = json.loads(self.state_path.read_text(encoding="utf-8"))
            self._wrong = int(data.get("wrong", 0))
            self._locks = int(data.get("locks", 0))
            self._locked_until = float(data.get("locked_until", 0.0))
        except (OSError, ValueError, TypeError, AttributeError):
            # A damaged state file must not open the gate: count it as one lock.
            self._wrong, self._locks, self._locked_until = 0, 1, self._clock() + self.lock_s

    def _save(self) -> None:
        if self.state_path is None:
            return
        data = {"wrong": self._wrong, "locks": self._locks, "locked_until": self._locked_until}
        tmp = self.state_path.with_name(f".{self.state_path.name}.{secrets.token_hex(4)}")
        try:
            self.state_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f)
            os.replace(tmp, self.state_path)
        except OSError:
            tmp.unlink(missing_ok=True)  # the in-memory count still holds for this run

    # ---- checks ---------------------------------------------------------------------------

    @property
    def configured(self) -> bool:
        """Whether any PIN is set (without one the settings stay locked)."""
        return self._stored is not None

    @property
    def tries_left(self) -> int:
        """Wrong PINs still allowed before the lock."""
        return max(0, self.max_tries - self._wrong)

    def locked_for(self) -> float:
        """Seconds until the lock ends (0 when not locked)."""
        return max(0.0, self._locked_until - self._clock())

    def check(self, pin: str) -> PinResult:
        """``ok`` (the back-off resets), ``wrong``, ``locked`` or ``unset``."""
        if self._stored is None:
            return "unset"
        if self.locked_for() > 0:
            return "locked"
        n, r, p, salt, digest = self._stored
        if hmac.compare_digest(_scrypt(pin, salt, n, r, p), digest):
            self._wrong, self._locks, self._locked_until = 0, 0, 0.0
            self._save()
            return "ok"
        self._wrong += 1
        result: PinResult = "wrong"
        if self._wrong >= self.max_tries:
            self._wrong = 0
            self._locks += 1
            backoff = min(MAX_LOCK_S, self.lock_s * 2 ** (self._locks - 1))
            self._locked_until = self._clock() + backoff
            result = "locked"
        self._save()
        return result
