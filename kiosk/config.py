"""The kiosk's configuration file (TOML) and the reader names it shares with ``--reader``.

A file looks like::

    [reader]
    name = "auto"        # or "pcsc", "pcsc:ACS ACR1281 1S Dual Reader PICC 00 00",
                         # "nfc", "nfc:usb:054c:06c3", "sim:default"

    [gateway]            # where eligibility is asked (credentials: environment only)
    url = "https://egw.baohiemxahoi.gov.vn"
    kind = "bhxh"        # or "fhir"
    api_version = "2024" # BHXH card check: "2024" (staff fields) or "2019"
    connect_timeout_s = 2.0
    timeout_s = 6.0      # total per look-up, retries included
    ca_bundle = "/etc/ssl/clinic-ca.pem"   # optional

    [storage]            # the encrypted cache, the check-in journal and their key
    data_dir = "/var/lib/cccd-kiosk"       # default: the user data directory
    cache_ttl_hours = 24
    max_stale_days = 7
    retention_days = 30  # check-ins kept this long once the HIS has them (1–3650)
    url = "postgresql://kiosk_01@db.bv.local/cccd?sslmode=verify-full"  # optional: several
                         # kiosks on one PostgreSQL ($CCCD_KIOSK_DATABASE_URL wins); none: SQLite
    connect_timeout_s = 5.0   # how long a call waits for the database server

    [his]                # the hospital system the outbox forwards check-ins to
    url = "https://his.example.vn/api/checkin"
    format = "xml130"    # or "fhir"

    [ui]                 # the Qt kiosk (command-line flags override these)
    mode = "self"        # or "reception" (staff at a desk)
    language = "vi"      # or "en"
    idle_timeout_s = 60  # seconds without a touch before the screen is wiped
    warning_s = 10       # a "More time" countdown this long comes before that wipe (0: none)
    result_timeout_s = 20  # self-check: a BHYT-QR result (no card to take away) is wiped after
    card_reminder_s = 6  # self-check: "Please take your card" when it is still on the reader
    fullscreen = true    # full screen and frameless; --windowed overrides
    operator_pin_hash = "scrypt$16384$8$1$…"  # from `cccd-kiosk set-pin --print`; never the
                         # PIN itself (or `set-pin` into the data folder, or the environment's
                         # CCCD_KIOSK_OPERATOR_PIN)
    export_dir = "/var/lib/cccd-kiosk/exports"  # reception's CSV exports (default: data folder)
    hospital = "Bệnh viện Đa khoa Tỉnh"  # the header's name (default: [printer] hospital)
    logo = "/etc/cccd-kiosk/logo.png"     # optional, shown left of the name
    large_text = false   # start in large-text mode (patients toggle it with "Aa")
    screen_inches = 21.5 # the screen's diagonal: large text gets capitals of >= 7 mm

    [display]            # the calling display (`cccd-kiosk display`) and this desk's name
    bind = "127.0.0.1"   # loopback by default; the LAN address for a TV on the network
    port = 8780
    next_count = 5       # waiting numbers listed per department
    voice = false        # the page speaks each call (espeak-ng)
    desk = "Quầy 1"      # the name reception calls numbers under (default: the host name)

    [voice]              # spoken prompts at the self-check kiosk (off by default)
    enabled = true
    player = "aplay -q -"  # plays a WAV from stdin (paplay, pw-play work too)
    volume = 80          # 0-100, where every patient starts

    [[departments]]      # optional, one table per department; queue numbers count per
    code = "NOI"         # department per day (none: one queue for the clinic)
    name_vi = "Khoa Nội"
    name_en = "Internal medicine"
    room = "203"
    open_hours = "07:00-16:30"   # local time; empty: always
    bhyt_self = true     # insured patients may register here at the kiosk themselves

    [[clinics]]          # optional: names for BHYT clinic codes (the patient's ĐKKCB)
    code = "48001"
    name = "Bệnh viện Đà Nẵng"

    [status]             # opt-in /metrics and /health (token: $CCCD_KIOSK_STATUS_TOKEN)
    bind = "127.0.0.1"
    port = 9478

    [logging]
    format = "json"      # or "text"
    file = "/var/log/cccd-kiosk/kiosk.log"   # rotated; default: stderr (the journal)
    level = "WARNING"
    [logging.levels]
    "kiosk.eligibility" = "DEBUG"

Every key has a default (:class:`Config` is a tree of frozen dataclasses),
so an empty file is a valid configuration. Anything the kiosk does not know
is an error that names the key — a misspelt key silently ignored would leave
a clinic running on a default it did not choose. Later issues add sections
and keys by adding dataclass fields; the loader derives the checks from them.

Reader names (:class:`ReaderSpec`) are parsed here, in the core, so the
config file and the command line accept exactly the same names;
``drivers.registry`` opens them.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import types
import typing
import unicodedata
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any

#: The kinds of reader name: ``auto``, ``sim:NAME``, ``pcsc[:NAME]``, ``nfc[:PATH]``.
READER_KINDS = ("auto", "sim", "pcsc", "nfc")
READER_HELP = (
    "auto (PC/SC when pcscd lists a reader, else NFC on USB), pcsc[:NAME], nfc[:PATH] "
    "(usb, usb:VID:PID, tty:USB0:pn532), sim:CARD"
)


#: A simulated reader's name: a sample card, optionally with ``+FAULT`` suffixes.
_SIM_NAME = re.compile(r"[a-z0-9][a-z0-9_-]*(\+[a-z0-9][a-z0-9_-]*)*")
#: The largest configuration file read (a real one is a few KiB).
MAX_CONFIG_BYTES = 256 * 1024


class ConfigError(Exception):
    """The configuration cannot be used. ``path`` is the file, ``key`` the dotted key if any."""

    def __init__(self, message: str, *, path: str | None = None, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.key = key

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        what = f"{self.key}: " if self.key else ""
        return f"{where}{what}{self.message}"


class ConfigSyntaxError(ConfigError):
    """The file is not valid TOML (the message has the line and column)."""


class UnknownConfigKey(ConfigError):
    """A key or section the kiosk does not know (often a typo)."""


class ConfigValueError(ConfigError):
    """A known key with a value of the wrong type or out of range."""


class ReaderSpecSyntaxError(ValueError):
    """A reader name that is not one of the forms in :data:`READER_HELP`."""


@dataclass(frozen=True)
class ReaderSpec:
    """A parsed reader name: ``kind`` (one of :data:`READER_KINDS`) and ``name`` ("" if none).

    ``sim`` without a card is ``sim:default``; ``nfc`` without a path is
    ``nfc:usb``; ``pcsc`` without a name means the first reader with a card.
    """

    kind: str
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> ReaderSpec:
        spec = text.strip()
        kind, sep, name = spec.partition(":")
        if kind not in READER_KINDS:
            raise ReaderSpecSyntaxError(f"unknown reader {text!r}: use {READER_HELP}")
        if kind == "auto" and sep:
            raise ReaderSpecSyntaxError(f"'auto' takes no name (got {text!r})")
        if sep and not name:
            raise ReaderSpecSyntaxError(f"empty name after {kind!r}: use {READER_HELP}")
        if kind == "sim" and not name:
            name = "default"
        if kind == "sim" and not _SIM_NAME.fullmatch(name):
            # only sample-card names (and +FAULT suffixes): never a path to read
            raise ReaderSpecSyntaxError(
                f"sim: takes a sample card name such as sim:default (see `cccd-sim cards`), "
                f"not {name!r}"
            )
        if kind == "nfc" and not name:
            name = "usb"
        return cls(kind, name)

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}" if self.name else self.kind


@dataclass(frozen=True)
class ReaderConfig:
    """``[reader]``: which reader to use (same names as ``--reader``)."""

    name: str = "auto"

    def __post_init__(self) -> None:
        try:
            ReaderSpec.parse(self.name)
        except ReaderSpecSyntaxError as exc:
            raise ConfigValueError(str(exc), key="reader.name") from exc

    @property
    def spec(self) -> ReaderSpec:
        return ReaderSpec.parse(self.name)


GATEWAY_KINDS = ("bhxh", "fhir")
BHXH_API_VERSIONS = ("2024", "2019")
HIS_FORMATS = ("xml130", "fhir")
#: The longest a check-in may be kept (ten years): a typo must not keep data for ever.
MAX_RETENTION_DAYS = 3650


def _url(value: str | None, key: str) -> None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigValueError(f"must be an http:// or https:// URL, not {value!r}", key=key)


def _choice(value: str, choices: tuple[str, ...], key: str) -> None:
    if value not in choices:
        raise ConfigValueError(f"must be one of {', '.join(choices)}, not {value!r}", key=key)


def _at_most(value: float, limit: float, key: str, unit: str) -> None:
    if value > limit:
        raise ConfigValueError(f"must be at most {limit:g} {unit}, not {value!r}", key=key)


def _positive(value: float, key: str) -> None:
    if not value > 0:
        raise ConfigValueError(f"must be greater than 0, not {value!r}", key=key)


@dataclass(frozen=True)
class GatewayConfig:
    """``[gateway]``: the eligibility gateway. Credentials are never here: environment only.

    ``url`` None means not configured (check-ins then answer from the cache or "ask staff").
    ``timeout_s`` bounds one look-up, retries included, so a slow gateway costs a patient at
    most that long before the cache answers.
    """

    url: str | None = None
    kind: str = "bhxh"
    api_version: str = "2024"
    connect_timeout_s: float = 2.0
    timeout_s: float = 6.0
    ca_bundle: str | None = None
    #: Plain http to a gateway on another host: a lab only (the client warns).
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        _url(self.url, "gateway.url")
        _choice(self.kind, GATEWAY_KINDS, "gateway.kind")
        _choice(self.api_version, BHXH_API_VERSIONS, "gateway.api_version")
        _positive(self.connect_timeout_s, "gateway.connect_timeout_s")
        _positive(self.timeout_s, "gateway.timeout_s")
        # A patient waits through a look-up: minutes would be a hung kiosk, not a setting.
        _at_most(self.connect_timeout_s, 30.0, "gateway.connect_timeout_s", "seconds")
        _at_most(self.timeout_s, 60.0, "gateway.timeout_s", "seconds")


@dataclass(frozen=True)
class StorageConfig:
    """``[storage]``: where the cache, journal and storage key live, and how long answers keep.

    A cached answer is fresh for ``cache_ttl_hours``; past that it may still be shown, marked
    stale with its age, up to ``max_stale_days``. A check-in is kept ``retention_days`` local
    days once the HIS has it (or, with no ``[his] url``, at all): personal data has a life.
    """

    data_dir: str | None = None
    cache_ttl_hours: float = 24.0
    max_stale_days: float = 7.0
    retention_days: int = 30
    #: The shared PostgreSQL (``postgresql://…``) every kiosk of a hospital uses; None: the
    #: embedded SQLite files in ``data_dir``. ``$CCCD_KIOSK_DATABASE_URL`` overrides it.
    url: str | None = None
    connect_timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.url is not None and not self.url.startswith(("postgresql://", "postgres://")):
            raise ConfigValueError(
                "must be a postgresql:// URL (or left out for the embedded SQLite files)",
                key="storage.url",
            )
        _positive(self.connect_timeout_s, "storage.connect_timeout_s")
        _at_most(self.connect_timeout_s, 60.0, "storage.connect_timeout_s", "seconds")
        _positive(self.cache_ttl_hours, "storage.cache_ttl_hours")
        _positive(self.max_stale_days, "storage.max_stale_days")
        _at_most(self.cache_ttl_hours, 24.0 * 31, "storage.cache_ttl_hours", "hours")
        _at_most(self.max_stale_days, 366.0, "storage.max_stale_days", "days")
        if not 1 <= self.retention_days <= MAX_RETENTION_DAYS:
            raise ConfigValueError(
                f"must be a whole number of days from 1 to {MAX_RETENTION_DAYS}, "
                f"not {self.retention_days!r}",
                key="storage.retention_days",
            )
        if self.max_stale_days * 24 < self.cache_ttl_hours:
            raise ConfigValueError(
                "must be at least cache_ttl_hours (a stale answer outlives a fresh one)",
                key="storage.max_stale_days",
            )


@dataclass(frozen=True)
class HisConfig:
    """``[his]``: the hospital information system check-ins are forwarded to (None: none)."""

    url: str | None = None
    format: str = "xml130"
    #: Plain http to a HIS on another host: a lab only (the outbox warns).
    allow_insecure_http: bool = False
    #: The HIS's CA (instead of the system trust) and the kiosk's TLS client certificate.
    ca_bundle: str | None = None
    client_cert: str | None = None
    client_key: str | None = None

    def __post_init__(self) -> None:
        _url(self.url, "his.url")
        _choice(self.format, HIS_FORMATS, "his.format")


@dataclass(frozen=True)
class TrustConfig:
    """``[trust]``: where the trusted CSCAs are — certificate files (PEM/DER), ICAO master
    lists (``.ml``), CRLs, or folders of them, as ``--trust`` takes them. Empty: nothing is
    trusted and genuine cards show ``issuer_unknown`` (``sim:`` readers trust the test CSCA)."""

    paths: tuple[str, ...] = ()


PAPER_WIDTHS = ("80mm", "58mm")


@dataclass(frozen=True)
class PrinterConfig:
    """``[printer]``: the ESC/POS ticket printer (None: no tickets are printed).

    ``url`` is ``tcp://HOST[:PORT]`` (port 9100 by default), ``usb:VID:PID`` or
    ``file:PATH`` (a device node such as ``/dev/usb/lp0``); ``hospital`` heads every ticket;
    ``native_qr`` false draws the check-in QR into the image for printers without GS ( k.
    """

    url: str | None = None
    hospital: str = "Phòng khám"
    paper: str = "80mm"
    native_qr: bool = True
    timeout_s: float = 5.0

    def __post_init__(self) -> None:
        if self.url is not None and not self.url.startswith(("tcp://", "usb:", "file:")):
            raise ConfigValueError(
                f"must be tcp://HOST[:PORT], usb:VID:PID or file:PATH, not {self.url!r}",
                key="printer.url",
            )
        _choice(self.paper, PAPER_WIDTHS, "printer.paper")
        _positive(self.timeout_s, "printer.timeout_s")
        _at_most(self.timeout_s, 30.0, "printer.timeout_s", "seconds")
        if not self.hospital.strip() or len(self.hospital) > 80:
            raise ConfigValueError(
                "must be the hospital's name (1 to 80 characters)", key="printer.hospital"
            )


@dataclass(frozen=True)
class VoiceConfig:
    """``[voice]``: spoken prompts at the self-check kiosk (each step and every error, in the
    screen's language; never personal data). ``player`` plays a WAV from standard input
    (default ALSA's ``aplay``; ``paplay`` or ``pw-play`` for PulseAudio/PipeWire);
    ``volume`` 0–100 is where every patient starts (they can turn it up on the screen).
    Off by default: a clinic turns it on where the kiosk has a speaker."""

    enabled: bool = False
    player: str = "aplay -q -"
    volume: int = 80

    def __post_init__(self) -> None:
        if not 0 <= self.volume <= 100:
            raise ConfigValueError(f"must be 0 to 100, not {self.volume!r}", key="voice.volume")
        if not self.player.strip() or len(self.player) > 1000:
            raise ConfigValueError("must be a command line", key="voice.player")


@dataclass(frozen=True)
class DisplayConfig:
    """``[display]``: the calling display (``cccd-kiosk display``) and this desk's name.

    ``bind`` is loopback by default: the page is for a TV on the hospital LAN only when an
    address is configured (e.g. the desk PC's LAN address, or ``0.0.0.0``). ``port`` is the
    page's TCP port; ``next_count`` how many waiting numbers each department lists;
    ``voice`` whether the page speaks each call ("Mời số 15 đến phòng 203", espeak-ng);
    ``desk`` the name a reception desk calls numbers under (default: the machine's name).
    """

    bind: str = "127.0.0.1"
    port: int = 8780
    next_count: int = 5
    voice: bool = False
    desk: str = ""

    def __post_init__(self) -> None:
        if not 1 <= self.port <= 65535:
            raise ConfigValueError(f"must be 1 to 65535, not {self.port!r}", key="display.port")
        if not 1 <= self.next_count <= 20:
            raise ConfigValueError(
                f"must be 1 to 20, not {self.next_count!r}", key="display.next_count"
            )
        if not self.bind.strip() or len(self.bind) > 255:
            raise ConfigValueError("must be an IP address or host name", key="display.bind")
        if len(self.desk) > 40:
            raise ConfigValueError("at most 40 characters", key="display.desk")
        object.__setattr__(self, "desk", unicodedata.normalize("NFC", self.desk.strip()))


UI_MODES = ("self", "reception")
#: Longest idle timeout the kiosk accepts (seconds): a day.
MAX_IDLE_TIMEOUT_S = 86400.0
UI_LANGUAGES = ("vi", "en")


@dataclass(frozen=True)
class UiConfig:
    """``[ui]``: the Qt kiosk's mode, language, idle wipe, full screen, operator PIN hash and
    the folder reception's exports go to.

    ``operator_pin_hash`` is the scrypt hash ``cccd-kiosk set-pin --print`` prints
    (``scrypt$N$r$p$salt$hash``); the clear PIN is never in the file. ``set-pin`` can instead
    keep it in the data folder, and ``$CCCD_KIOSK_OPERATOR_PIN`` overrides both. No PIN at
    all: the settings stay locked. ``idle_timeout_s`` is at most a day (a kiosk that never
    wipes is not one). ``export_dir`` (default: ``exports`` in the data folder) is where
    "Xuất CSV / Export" writes — a public kiosk shows no file dialog. ``warning_s``: the
    "Thêm thời gian / More time" countdown before an idle wipe (0: wipe without one);
    ``result_timeout_s``: how long a self-check BHYT-QR result stays (nobody removes a card
    to end it); ``card_reminder_s``: when a card still on the reader after its result is
    reminded.
    """

    mode: str = "self"
    language: str = "vi"
    idle_timeout_s: float = 60.0
    fullscreen: bool = True
    operator_pin_hash: str | None = None
    export_dir: str | None = None
    #: The header's name (empty: ``[printer] hospital``) and logo (PNG/JPEG/SVG file).
    hospital: str = ""
    logo: str | None = None
    #: Large-text mode from the start (patients can switch it either way), and the screen's
    #: diagonal in inches, so large text has capitals of at least 7 mm (default: the
    #: display's reported size).
    large_text: bool = False
    screen_inches: float | None = None
    #: Whether self-check reads the photo (DG2) too; off: a faster answer, and the photo is
    #: what reception compares, not the patient.
    self_check_photo: bool = False
    warning_s: float = 10.0
    result_timeout_s: float = 20.0
    card_reminder_s: float = 6.0

    def __post_init__(self) -> None:
        _choice(self.mode, UI_MODES, "ui.mode")
        for key in ("warning_s", "result_timeout_s", "card_reminder_s"):
            value = getattr(self, key)
            number = isinstance(value, int | float) and not isinstance(value, bool)
            if not number or not 0 <= value <= 600:
                raise ConfigValueError(f"must be 0 to 600 seconds, not {value!r}", key=f"ui.{key}")
        _positive(self.result_timeout_s, "ui.result_timeout_s")
        _positive(self.card_reminder_s, "ui.card_reminder_s")
        if self.screen_inches is not None and not 5 <= self.screen_inches <= 100:
            raise ConfigValueError("must be 5 to 100 (inches)", key="ui.screen_inches")
        if len(self.hospital) > 80:
            raise ConfigValueError("at most 80 characters", key="ui.hospital")
        object.__setattr__(self, "hospital", unicodedata.normalize("NFC", self.hospital.strip()))
        _choice(self.language, UI_LANGUAGES, "ui.language")
        _positive(self.idle_timeout_s, "ui.idle_timeout_s")
        if self.idle_timeout_s > MAX_IDLE_TIMEOUT_S:
            raise ConfigValueError(
                f"must be at most {MAX_IDLE_TIMEOUT_S:g} seconds, not {self.idle_timeout_s!r}",
                key="ui.idle_timeout_s",
            )
        h = self.operator_pin_hash
        if h is not None and not (h.startswith("scrypt$") and len(h.split("$")) == 6):
            raise ConfigValueError(
                "must be the hash `cccd-kiosk set-pin --print` prints (scrypt$…), "
                "never the PIN itself",
                key="ui.operator_pin_hash",
            )


STATUS_ENV_TOKEN = "CCCD_KIOSK_STATUS_TOKEN"


@dataclass(frozen=True)
class StatusConfig:
    """``[status]``: the opt-in status endpoint (Prometheus ``/metrics`` and JSON ``/health``).

    Off unless ``port`` is set. ``bind`` is loopback by default; another address exposes it on
    the network (the fleet's Prometheus). Every request needs ``Authorization: Bearer
    <token>``: ``token`` here or, better, ``$CCCD_KIOSK_STATUS_TOKEN`` (the environment wins).
    """

    bind: str = "127.0.0.1"
    port: int | None = None
    token: str | None = None

    def __post_init__(self) -> None:
        if self.port is not None and not 0 <= self.port <= 65535:
            raise ConfigValueError(
                f"must be a TCP port (1-65535, 0: any free one), not {self.port!r}",
                key="status.port",
            )
        if not self.bind.strip():
            raise ConfigValueError("must be an address such as 127.0.0.1", key="status.bind")
        if self.token is not None and len(self.token) < 16:
            raise ConfigValueError("must be at least 16 characters", key="status.token")


LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class LoggingConfig:
    """``[logging]``: where log lines go and how much. ``format`` ``text`` or ``json`` (one
    JSON object a line); ``file`` a path written with rotation (``max_bytes``, ``backups``),
    else stderr (the journal under systemd); ``level`` for everything, ``[logging.levels]``
    per component (``"kiosk.eligibility" = "DEBUG"``). ``$CCCD_KIOSK_LOG_LEVEL`` overrides
    ``level``. Log lines never carry personal data, whatever the level."""

    format: str = "text"
    file: str | None = None
    level: str = "ERROR"
    max_bytes: int = 10 * 1024 * 1024
    backups: int = 5
    levels: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        _choice(self.format, LOG_FORMATS, "logging.format")
        object.__setattr__(self, "level", self.level.upper())
        _choice(self.level, LOG_LEVELS, "logging.level")
        if not 1024 <= self.max_bytes <= 2**31:
            raise ConfigValueError(
                f"must be from 1024 to 2147483648 bytes, not {self.max_bytes!r}",
                key="logging.max_bytes",
            )
        if not 0 <= self.backups <= 100:
            raise ConfigValueError(
                f"must be from 0 to 100, not {self.backups!r}", key="logging.backups"
            )
        levels = {}
        for name, level in self.levels.items():
            if level.upper() not in LOG_LEVELS:
                raise ConfigValueError(
                    f"must be one of {', '.join(LOG_LEVELS)}, not {level!r}",
                    key=f"logging.levels.{name}",
                )
            levels[name] = level.upper()
        object.__setattr__(self, "levels", levels)


#: A department code: what staff type and what the HIS knows (``NOI``, ``K03``, ``RHM-2``).
_DEPARTMENT_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,15}")
#: Open hours ``HH:MM-HH:MM`` (local time), or empty for "always".
_OPEN_HOURS = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]")


@dataclass(frozen=True)
class Department:
    """One ``[[departments]]`` entry: a specialty patients queue for, and its room.

    ``code`` is what ``checkin --department`` takes and the HIS receives (XML 130
    ``MA_KHOA``); ``name_vi``/``name_en`` are what the screen and the ticket say; ``room`` is
    where the patient goes ("203"); ``open_hours`` (``07:00-16:30``, local time; empty:
    always) and ``bhyt_self`` (whether insured patients may register here at the kiosk by
    themselves) decide what self-check offers. Queue numbers count per department per day.
    """

    code: str
    name_vi: str
    name_en: str = ""
    room: str = ""
    open_hours: str = ""
    bhyt_self: bool = True

    def __post_init__(self) -> None:
        if not _DEPARTMENT_CODE.fullmatch(self.code):
            raise ConfigValueError(
                f"must be 1 to 16 letters, digits, '-' or '_' (e.g. NOI, K03), not {self.code!r}",
                key="departments.code",
            )
        for key in ("name_vi", "name_en", "room"):
            value = getattr(self, key)
            if len(value) > 60 or (key == "name_vi" and not value.strip()):
                raise ConfigValueError(
                    "must be 1 to 60 characters" if key == "name_vi" else "at most 60 characters",
                    key=f"departments.{key}",
                )
            object.__setattr__(self, key, unicodedata.normalize("NFC", value.strip()))
        if self.open_hours and not _OPEN_HOURS.fullmatch(self.open_hours):
            raise ConfigValueError(
                f"must be HH:MM-HH:MM (e.g. 07:00-16:30), not {self.open_hours!r}",
                key="departments.open_hours",
            )

    def name(self, language: str) -> str:
        """The name in ``language`` ("en" falls back to the Vietnamese one)."""
        return self.name_en or self.name_vi if language == "en" else self.name_vi

    def is_open(self, at: time) -> bool:
        """Whether the department takes patients at local time ``at``: always without
        ``open_hours``; from the opening minute up to (not including) the closing one; a
        range past midnight (``22:00-06:00``) is a night shift."""
        if not self.open_hours:
            return True
        start_s, _, end_s = self.open_hours.partition("-")
        start, end = time.fromisoformat(start_s), time.fromisoformat(end_s)
        now = at.replace(second=0, microsecond=0, tzinfo=None)
        if start <= end:
            return start <= now < end
        return now >= start or now < end


#: The most departments a kiosk offers (a screen of buttons, not a directory).
MAX_DEPARTMENTS = 40

#: A BHYT clinic code (``maDKBD``/``maCSKCB``): "01001", "01-001" or "48001".
_CLINIC_CODE = re.compile(r"[0-9]{2}-?[0-9]{3}")
#: The most clinic names a configuration carries (the region's, not the country's).
MAX_CLINICS = 500


@dataclass(frozen=True)
class Clinic:
    """One ``[[clinics]]`` entry: the name of a BHYT clinic code, so screens say "Bệnh viện
    Đà Nẵng (48001)" instead of a bare code for the patient's registered clinic (ĐKKCB)."""

    code: str
    name: str

    def __post_init__(self) -> None:
        if not _CLINIC_CODE.fullmatch(self.code):
            raise ConfigValueError(
                f"must be a 5-digit BHYT clinic code such as 48001 or 01-001, not {self.code!r}",
                key="clinics.code",
            )
        if not 0 < len(self.name.strip()) <= 80:
            raise ConfigValueError("must be 1 to 80 characters", key="clinics.name")
        object.__setattr__(self, "name", unicodedata.normalize("NFC", self.name.strip()))

    @property
    def key(self) -> str:
        """The code without its dash ("01-001" and "01001" are one clinic)."""
        return self.code.replace("-", "")


@dataclass(frozen=True)
class Config:
    """The whole configuration; every section has defaults."""

    reader: ReaderConfig = field(default_factory=ReaderConfig)
    gateway: GatewayConfig = field(default_factory=GatewayConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    his: HisConfig = field(default_factory=HisConfig)
    ui: UiConfig = field(default_factory=UiConfig)
    trust: TrustConfig = field(default_factory=TrustConfig)
    printer: PrinterConfig = field(default_factory=PrinterConfig)
    display: DisplayConfig = field(default_factory=DisplayConfig)
    voice: VoiceConfig = field(default_factory=VoiceConfig)
    status: StatusConfig = field(default_factory=StatusConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    #: ``[[departments]]``: none (the default) is one queue for the whole clinic.
    departments: tuple[Department, ...] = ()
    #: ``[[clinics]]``: names for BHYT clinic codes (none: codes are shown as they are).
    clinics: tuple[Clinic, ...] = ()

    def __post_init__(self) -> None:
        if len(self.clinics) > MAX_CLINICS:
            raise ConfigValueError(f"at most {MAX_CLINICS} clinics", key="clinics")
        codes = [d.code.upper() for d in self.departments]
        if len(codes) > MAX_DEPARTMENTS:
            raise ConfigValueError(f"at most {MAX_DEPARTMENTS} departments", key="departments")
        dup = sorted({c for c in codes if codes.count(c) > 1})
        if dup:
            raise ConfigValueError(
                f"department codes must be unique (repeated: {', '.join(dup)})",
                key="departments",
            )

    def clinic_names(self) -> dict[str, str]:
        """Clinic code (without dash) → name, for :func:`clinic_label`."""
        return {c.key: c.name for c in self.clinics}

    def department(self, code: str) -> Department | None:
        """The configured department with ``code`` (case-insensitive), or None."""
        for d in self.departments:
            if d.code.upper() == code.strip().upper():
                return d
        return None


def clinic_label(code: str, names: dict[str, str]) -> str:
    """``code`` with its configured name ("Bệnh viện Đà Nẵng (48001)"), else the code."""
    name = names.get(code.replace("-", "").strip())
    return f"{name} ({code})" if name else code


def _type_name(tp: Any) -> str:
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, getattr(tp, "__name__", str(tp))
    )


def _value(tp: Any, value: Any, key: str) -> Any:
    """Check one TOML value against the field type ``tp`` (str, int, float, bool, X | None, or
    tuple[str, ...] written as a TOML array of strings)."""
    if typing.get_origin(tp) is dict:
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise ConfigValueError("must be a table of strings", key=key)
        return dict(value)
    if typing.get_origin(tp) is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigValueError("must be a list of strings", key=key)
        return tuple(value)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        options = [t for t in typing.get_args(tp) if t is not type(None)]
        tp = options[0] if len(options) == 1 else tp
    ok = (
        (tp is bool and isinstance(value, bool))
        or (tp is int and isinstance(value, int) and not isinstance(value, bool))
        or (tp is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (tp is str and isinstance(value, str))
    )
    if not ok:
        raise ConfigValueError(f"must be {_type_name(tp)}, not {value!r}", key=key)
    return float(value) if tp is float else value


def _table_array_item(tp: Any) -> Any:
    """The dataclass of a ``tuple[SomeDataclass, ...]`` field (a TOML array of tables)."""
    if typing.get_origin(tp) is tuple:
        args = typing.get_args(tp)
        if args and dataclasses.is_dataclass(args[0]):
            return args[0]
    return None


def _build(cls: Any, table: dict[str, Any], prefix: str) -> Any:
    """Make dataclass ``cls`` from a TOML table, naming the first unknown or wrong key."""
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    for key, value in table.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            raise UnknownConfigKey(
                f"unknown {'section' if isinstance(value, dict) else 'key'} "
                f"(known here: {', '.join(sorted(known)) or 'none'})",
                key=dotted,
            )
        tp = hints[key]
        item = _table_array_item(tp)
        if item is not None:
            if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
                raise ConfigValueError(f"must be [[{dotted}]] tables", key=dotted)
            kwargs[key] = tuple(
                _build(item, v, f"{dotted}[{i}].") for i, v in enumerate(value, start=1)
            )
        elif dataclasses.is_dataclass(tp):
            if not isinstance(value, dict):
                raise ConfigValueError(f"must be a [{dotted}] section", key=dotted)
            kwargs[key] = _build(tp, value, f"{dotted}.")
        else:
            kwargs[key] = _value(tp, value, dotted)
    for f in known.values():
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if required and f.name not in kwargs:
            raise ConfigValueError("is required here", key=f"{prefix}{f.name}")
    try:
        return cls(**kwargs)
    except ConfigValueError as exc:
        if exc.key and prefix.endswith("]."):  # name the entry: departments[2].code
            exc.key = prefix + exc.key.rsplit(".", 1)[-1]
        raise


def parse_config(text: str, *, path: str | None = None) -> Config:
    """The :class:`Config` in TOML ``text``; ``path`` only labels error messages."""
    try:
        table = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigSyntaxError(f"not valid TOML: {exc}", path=path) from exc
    try:
        config: Config = _build(Config, table, "")
    except ConfigError as exc:
        exc.path = path
        raise
    return config


def load_config(path: str | Path) -> Config:
    """Read and check the configuration file at ``path``."""
    p = Path(path)
    try:
        if not p.exists():
            raise ConfigError("cannot read the file: no such file", path=str(p))
        if not p.is_file():
            raise ConfigError("not a regular file (give the path of a .toml file)", path=str(p))
        with p.open("rb") as f:
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read the file: {exc.strerror or exc}", path=str(p)) from exc
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"larger than {MAX_CONFIG_BYTES // 1024} KiB: not a configuration file", path=str(p)
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigSyntaxError("not UTF-8 text", path=str(p)) from exc
    return parse_config(text, path=str(p))
