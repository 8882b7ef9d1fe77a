"""What a kiosk is built from: the configuration, the command line's overrides, and the few
decisions every front-end must make the same way.

* **The embedded default.** No configuration file means the demo: the ``sim:default``
  reader (:data:`EMBEDDED_READER`), the gateway simulator on loopback, local storage. A file
  without ``[reader]`` means ``auto`` (a real reader), as :class:`kiosk.config.Config` says.
* **Demo or not** (:func:`is_demo`): the reader is ``sim:``. Nothing else decides it — not
  the gateway URL, not the front-end. A demo trusts the simulator's test CSCA when no
  ``[trust] paths`` are given, asks the gateway simulator when no ``[gateway] url`` is, and
  keeps its data in its own folder (:func:`data_folder`), never in a real kiosk's.
* **The sample clinic** (:func:`with_sample_clinic`): the Qt window on the embedded default
  (``make run``) adds four sample departments and the stand-in ticket printer, started
  in-process, so the department choice and the printed ticket can be tried with nothing
  configured. The command line's embedded default keeps one queue (``checkin`` needs no
  ``--department`` there) and prints nothing.
* **Overrides** (:class:`Overrides`): a flag replaces the configuration's value, and an error
  in a flag names the flag (``--trust /x``) while an error in the file names the file's key
  (``[trust] paths``) — never a flag the user did not type.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from kiosk.app.errors import UsageError
from kiosk.config import (
    GATEWAY_KINDS,
    Config,
    ConfigError,
    HisConfig,
    ReaderConfig,
    ReaderSpec,
    ReaderSpecSyntaxError,
    StorageConfig,
    TrustConfig,
    load_config,
)

#: The reader of the embedded default (no configuration file): the demo.
EMBEDDED_READER = "sim:default"
#: ``--trust demo`` / ``[trust] paths = ["demo"]``: the simulator's test CSCA.
DEMO_TRUST = "demo"
#: The demo's data folder inside the user data folder (separate key, separate files).
DEMO_FOLDER = "demo"


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; None (or empty) keeps the configuration's."""

    reader: str | None = None
    gateway_url: str | None = None
    gateway_kind: str | None = None
    data_dir: Path | None = None
    trust: tuple[str, ...] = ()
    his_url: str | None = None
    his_format: str | None = None


@dataclass(frozen=True)
class Settings:
    """The effective configuration and where its trust paths came from (for messages)."""

    config: Config
    path: Path | None = None
    trust_origin: str = "[trust] paths"
    data_dir_override: Path | None = None
    #: Whether the file itself (or the embedded default) runs the demo — False when only a
    #: ``--reader sim:…`` flag turned a real kiosk's configuration into the demo.
    file_demo: bool = True
    #: Whether ``--gateway`` was given (the tester chose that gateway for this run).
    gateway_flag: bool = False
    #: Start the stand-in ESC/POS printer in-process and print there (the sample clinic).
    demo_printer: bool = False

    @property
    def demo(self) -> bool:
        return is_demo(self.config)

    @property
    def borrowed_demo(self) -> bool:
        """The demo on a real kiosk's configuration (``--reader sim:…`` over a file whose reader
        is real): it must use none of that kiosk's outside services or data — no configured
        gateway (unless ``--gateway``), no HIS — only the demo's own folder."""
        return self.demo and not self.file_demo


def embedded_default() -> Config:
    """The configuration without a file: the demo on the simulated reader."""
    return Config(reader=ReaderConfig(EMBEDDED_READER))


def with_sample_clinic(settings: Settings) -> Settings:
    """The embedded default as the Qt demo runs it: the sample clinic's departments
    (:data:`kiosk.app.demo.SAMPLE_DEPARTMENTS`) and its name on the tickets, printed on the
    in-process stand-in printer. A configuration that names departments or a printer, or is
    not the demo, is returned unchanged."""
    from kiosk.app.demo import SAMPLE_DEPARTMENTS, SAMPLE_HOSPITAL

    config = settings.config
    if not settings.demo or config.departments or config.printer.url:
        return settings
    config = dataclasses.replace(
        config,
        departments=SAMPLE_DEPARTMENTS,
        printer=dataclasses.replace(config.printer, hospital=SAMPLE_HOSPITAL),
    )
    return dataclasses.replace(settings, config=config, demo_printer=True)


def is_demo(config: Config) -> bool:
    """Whether ``config`` runs the demo: its reader is the simulator (``sim:CARD``)."""
    return config.reader.spec.kind == "sim"


def resolve(path: Path | None, overrides: Overrides | None = None) -> Settings:
    """The configuration at ``path`` (or the embedded default) with ``overrides`` applied.

    Raises :class:`kiosk.config.ConfigError` for a bad file and :class:`UsageError` for a bad
    flag, each naming what is wrong where the user wrote it.
    """
    config = load_config(path) if path is not None else embedded_default()
    file_demo = is_demo(config)
    o = overrides or Overrides()
    origin = f"[trust] paths in {path}" if path is not None else "[trust] paths"
    if o.reader:
        try:
            ReaderSpec.parse(o.reader)
        except ReaderSpecSyntaxError as exc:
            raise UsageError(f"--reader: {exc}") from exc
        config = dataclasses.replace(config, reader=ReaderConfig(o.reader))
    if o.gateway_url or o.gateway_kind:
        if o.gateway_kind is not None and o.gateway_kind not in GATEWAY_KINDS:
            raise UsageError(f"--gateway-kind: one of {', '.join(GATEWAY_KINDS)}")
        gw = config.gateway
        try:
            config = dataclasses.replace(
                config,
                gateway=dataclasses.replace(
                    gw, url=o.gateway_url or gw.url, kind=o.gateway_kind or gw.kind
                ),
            )
        except ConfigError as exc:
            raise UsageError(f"--gateway: {exc.message}") from exc
    if o.his_url or o.his_format:
        his = config.his
        try:
            config = dataclasses.replace(
                config,
                his=HisConfig(url=o.his_url or his.url, format=o.his_format or his.format),
            )
        except ConfigError as exc:
            raise UsageError(f"--url: {exc.message}") from exc
    if o.trust:
        config = dataclasses.replace(config, trust=TrustConfig(tuple(o.trust)))
        origin = "--trust"
    return Settings(config, path, origin, o.data_dir, file_demo, bool(o.gateway_url))


def data_folder(settings: Settings) -> Path:
    """Where the storage key, the cache and the journal live — the one rule:

    ``--data-dir`` (exactly that folder: the user chose it for this run), else
    ``[storage] data_dir``, else the user data folder (``$CCCD_KIOSK_DATA_DIR`` or the
    platform's) — and for the demo its own ``demo`` sub-folder of the latter two, so that
    made-up check-ins never mix with a real kiosk's, even on a real kiosk's configuration.
    """
    if settings.data_dir_override is not None:
        return Path(settings.data_dir_override).expanduser()
    storage: StorageConfig = settings.config.storage
    if storage.data_dir:
        base = Path(storage.data_dir).expanduser()
    else:
        from offline_cache.store import default_data_dir

        base = default_data_dir()
    return base / DEMO_FOLDER if settings.demo else base


__all__ = [
    "DEMO_TRUST",
    "EMBEDDED_READER",
    "Overrides",
    "Settings",
    "data_folder",
    "embedded_default",
    "is_demo",
    "resolve",
    "with_sample_clinic",
]
