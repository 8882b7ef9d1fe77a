"""``cccd-kiosk doctor``: what works on this kiosk and, for what does not, what to do.

Each check is a function over the resolved :class:`Settings` (and the :class:`Kiosk` built
from them, when that succeeds) returning one :class:`Check`: a name, a status (``ok``,
``warn``, ``fail``, ``skip``), a one-line detail and, when not ok, the fix in Vietnamese and
English. :func:`run_checks` runs every check on its own daemon thread with a bounded wait, so a
check that hangs (a gateway that never answers, a printer that swallows bytes) becomes a
``fail`` line and never blocks the others. Details never hold personal data: the checks look
at files, permissions and services, never at a check-in.
"""

from __future__ import annotations

import shutil
import sqlite3
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from kiosk.app.kiosk import Kiosk
from kiosk.app.messages import message_for
from kiosk.app.settings import Settings, data_folder

Status = Literal["ok", "warn", "fail", "skip"]

#: Seconds each check may take before it is reported as hanging.
CHECK_TIMEOUT_S = 10.0
#: Below this many free bytes in the data folder's file system: a warning.
LOW_DISK_BYTES = 200 * 1024 * 1024
#: The CCCD's country signing CA; without it no real card verifies as genuine.
CCCD_CSCA = "CSCA Vietnam"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report (the ``--json`` shape: keep these five fields)."""

    name: str
    status: Status
    detail: str
    fix_vi: str = ""
    fix_en: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Context:
    """What a check looks at: the settings, and the kiosk (None if it could not be built,
    with ``kiosk_error`` saying why)."""

    settings: Settings
    kiosk: Kiosk | None
    kiosk_error: BaseException | None = None


def _failed(name: str, exc: BaseException, doing: str) -> Check:
    """A ``fail`` line for ``exc``, with the error table's fix."""
    msg = message_for(exc)
    return Check(name, "fail", f"{doing}: {type(exc).__name__}", msg.action_vi, msg.action_en)


# ---- the checks ---------------------------------------------------------------------------


def check_config(ctx: Context) -> Check:
    """The configuration resolves and a kiosk can be built from it."""
    where = str(ctx.settings.path) if ctx.settings.path else "embedded default (demo)"
    if ctx.kiosk_error is not None:
        return _failed("config", ctx.kiosk_error, where)
    return Check("config", "ok", where)


def check_reader(ctx: Context) -> Check:
    """The configured reader: a sample card for ``sim:``, pcscd and its readers otherwise."""
    spec = ctx.settings.config.reader.spec
    if spec.kind == "sim":
        from kiosk.app.demo import sample_cards

        names = {c.name for c in sample_cards()}
        card = spec.name.split("+", 1)[0]
        if card in names:
            return Check("reader", "ok", f"simulated reader, sample card {card!r}")
        return Check(
            "reader",
            "fail",
            f"no sample card {card!r}",
            "Chọn một thẻ mẫu có trong `cccd-sim cards`.",
            "Pick a sample card listed by `cccd-sim cards`.",
        )
    if spec.kind == "nfc":
        return Check("reader", "skip", f"nfc:{spec.name or 'usb'} (see the nfc line)")
    from drivers.pcsc import card_atrs, list_readers

    try:
        readers = list_readers()
    except Exception as exc:
        return Check(
            "reader",
            "fail",
            f"pcscd does not answer ({type(exc).__name__})",
            "Khởi động dịch vụ pcscd: `systemctl start pcscd`.",
            "Start the pcscd service: `systemctl start pcscd`.",
        )
    if not readers:
        return Check(
            "reader",
            "fail",
            "pcscd runs but sees no reader",
            "Cắm đầu đọc thẻ vào cổng USB rồi thử lại.",
            "Plug the card reader into a USB port and try again.",
        )
    wanted = spec.name if spec.kind == "pcsc" else ""
    if wanted and not any(wanted in r for r in readers):
        return Check(
            "reader",
            "fail",
            f"no reader named {wanted!r} among {len(readers)}",
            "Sửa [reader] trong tệp cấu hình cho đúng tên đầu đọc.",
            "Fix [reader] in the config file to the reader's name.",
        )
    try:
        atrs = card_atrs()
    except Exception:  # pcscd went away between the two calls: the list still stands
        atrs = {}
    shown = [
        f"{r} (card present, ATR {atrs[r].hex(' ').upper()})" if r in atrs else r for r in readers
    ]
    return Check("reader", "ok", "; ".join(shown))


def check_nfc(ctx: Context) -> Check:
    """The NFC frontend of an ``nfc:`` reader: nfcpy opens it and names the device."""
    spec = ctx.settings.config.reader.spec
    if spec.kind != "nfc":
        return Check("nfc", "skip", f"the reader is {spec.kind}, not nfc")
    from drivers import nfc as nfc_driver

    path = spec.name or "usb"
    try:
        clf = nfc_driver.open_frontend(path)
    except Exception as exc:
        return _failed("nfc", exc, f"nfc:{path}")
    try:
        device = nfc_driver.device_profile(clf)
    finally:
        close = getattr(clf, "close", None)
        if close is not None:
            close()
    return Check(
        "nfc",
        "ok",
        f"nfc:{path}: {device.name} (nfcpy {device.driver}; commands up to "
        f"{device.max_command_len} bytes, answers up to {device.max_response_len})",
    )


def check_gateway(ctx: Context) -> Check:
    """The eligibility gateway answers and accepts the kiosk's credentials (a fresh token)."""
    kiosk = ctx.kiosk
    if kiosk is None:
        return Check("gateway", "skip", "no kiosk (see config)")
    backend = kiosk.backend
    if backend is None:
        return Check(
            "gateway",
            "warn",
            "not configured: every check-in is asked to staff",
            "Đặt [gateway] url trong tệp cấu hình để tra cứu thẻ BHYT.",
            "Set [gateway] url in the config file to look up insurance.",
        )
    probe = getattr(backend, "probe", None)
    what = "gateway simulator (demo)" if kiosk.gateway is not None else "gateway"
    url = kiosk.gateway.url if kiosk.gateway is not None else ctx.settings.config.gateway.url or ""
    if probe is None:
        return Check("gateway", "skip", f"{url}: this client cannot be probed")
    started = time.monotonic()
    try:
        probe()
    except Exception as exc:
        return _failed("gateway", exc, url)
    ms = (time.monotonic() - started) * 1000
    return Check("gateway", "ok", f"{what} {url}: token obtained in {ms:.0f} ms")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def check_data_folder(ctx: Context) -> Check:
    """The data folder is the owner's only (0700) and the storage key file is 0600."""
    from offline_cache.crypto import KEY_FILE

    folder = data_folder(ctx.settings)
    if not folder.exists():
        return Check("data folder", "ok", f"{folder}: not created yet (made 0700 on first use)")
    problems = []
    if _mode(folder) & 0o077:
        problems.append(f"folder mode {_mode(folder):04o}")
    key = folder / KEY_FILE
    if key.exists() and _mode(key) & 0o077:
        problems.append(f"{KEY_FILE} mode {_mode(key):04o}")
    if problems:
        return Check(
            "data folder",
            "fail",
            f"{folder}: " + ", ".join(problems),
            f"Chỉ chủ sở hữu được đọc: `chmod 700 {folder}; chmod 600 {key}`.",
            f"Make it the owner's only: `chmod 700 {folder}; chmod 600 {key}`.",
        )
    has_key = "key present" if key.exists() else "no key yet"
    return Check("data folder", "ok", f"{folder}: 0700, {has_key}")


def check_disk(ctx: Context) -> Check:
    """Free space where the journal is written."""
    folder = data_folder(ctx.settings)
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    free = shutil.disk_usage(existing).free
    detail = f"{free / 2**30:.1f} GiB free at {existing}"
    if free < LOW_DISK_BYTES:
        return Check(
            "disk",
            "warn",
            detail,
            "Giải phóng dung lượng đĩa: nhật ký tiếp đón cần chỗ trống.",
            "Free some disk space: the check-in journal needs room.",
        )
    return Check("disk", "ok", detail)


def _check_shared_journal(ctx: Context, url: str) -> Check:
    """The shared PostgreSQL answers and its schema is the one this kiosk needs."""
    from kiosk.app.storage import schema_status
    from offline_cache.spool import spool_waiting

    where = url.split("@")[-1].split("?")[0]  # host/db: no user or password in the report
    try:
        waiting = spool_waiting(data_folder(ctx.settings))
    except Exception:
        waiting = 0
    spooled = f"; {waiting} check-ins in this kiosk's offline spool" if waiting else ""
    try:
        st = schema_status(data_folder(ctx.settings), ctx.settings.config.storage, url)
    except Exception as exc:
        return _failed("journal", exc, f"PostgreSQL {where}{spooled}")
    if st.up_to_date:
        return Check("journal", "ok", f"PostgreSQL {where}: schema version {st.current}{spooled}")
    if st.current > st.target:
        return Check(
            "journal",
            "fail",
            f"PostgreSQL {where}: schema {st.current}, newer than this kiosk's {st.target}",
            "Cập nhật phần mềm kiosk lên phiên bản mới.",
            "Update the kiosk software to the current version.",
        )
    return Check(
        "journal",
        "fail",
        f"PostgreSQL {where}: schema {st.current}, this kiosk needs {st.target}",
        "Quản trị viên chạy `cccd-kiosk db upgrade` với vai trò chủ sở hữu.",
        "The administrator runs `cccd-kiosk db upgrade` as the owner role.",
    )


def check_journal(ctx: Context) -> Check:
    """The journal database passes ``PRAGMA integrity_check`` (opened read-only); a shared
    PostgreSQL answers with the schema version this kiosk needs."""
    from kiosk.app.storage import JOURNAL_DB, database_url

    url = database_url(ctx.settings.config.storage)
    if url and not ctx.settings.demo:
        return _check_shared_journal(ctx, url)
    path = data_folder(ctx.settings) / JOURNAL_DB
    if not path.exists():
        return Check("journal", "ok", "no journal yet (created at the first check-in)")
    fix_vi = "Dừng kiosk, khôi phục journal.db từ bản sao lưu, hoặc gọi kỹ thuật."
    fix_en = "Stop the kiosk and restore journal.db from a backup, or call support."
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True, timeout=2.0)
        try:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
            tables = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            ).fetchone()[0]
            version = _schema_version(conn)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        return Check("journal", "fail", f"{path}: {exc}", fix_vi, fix_en)
    result = "; ".join(str(r[0]) for r in rows[:3])
    if result != "ok":
        return Check("journal", "fail", f"{path}: {result}", fix_vi, fix_en)
    return Check("journal", "ok", f"{path}: integrity ok, {tables} tables, {version}")


def _schema_version(conn: sqlite3.Connection) -> str:
    """The journal's schema as its ``meta`` table records it (``index_version``; absent: 1,
    a journal from before per-table index keys, migrated when the kiosk next opens it)."""
    from offline_cache.store import read_meta

    try:
        version = read_meta(conn).get("index_version", "1")
    except sqlite3.Error:
        return "schema version unknown"
    return f"schema version {version}"


def check_audit(ctx: Context) -> Check:
    """The operator audit trail's HMAC chain is unbroken (no row altered or removed)."""
    from kiosk.app.storage import JOURNAL_DB

    if ctx.kiosk is None:
        return Check("audit", "skip", "no kiosk (see config)")
    folder = data_folder(ctx.settings)
    if not (folder / JOURNAL_DB).exists():
        return Check("audit", "ok", "no journal yet (the trail starts with it)")
    import os

    owner = folder.stat().st_uid
    if owner != os.getuid():  # the storage opens only for its owner (and must stay theirs)
        return Check(
            "audit",
            "skip",
            f"{folder} belongs to uid {owner}: run doctor as the kiosk's user "
            "(`sudo -u cccd-kiosk cccd-kiosk doctor`)",
        )
    try:
        v = ctx.kiosk.audit_log.verify()
    except Exception as exc:
        return _failed("audit", exc, "audit trail")
    if not v.ok:
        return Check(
            "audit",
            "fail",
            f"row {v.first_bad} altered, inserted or removed (intact up to {v.head_seq})",
            "Nhật ký thao tác đã bị sửa: báo quản trị viên, giữ nguyên tệp journal.db.",
            "The audit trail was tampered with: tell the administrator; keep journal.db as is.",
        )
    if v.rows == 0:
        return Check("audit", "ok", "no rows yet")
    return Check("audit", "ok", f"{v.rows} rows, chain intact (head {v.head_mac[:12]}…)")


def check_crl(ctx: Context) -> Check:
    """The CRLs in the trust store are current (``nextUpdate`` not past)."""
    from datetime import UTC, datetime

    kiosk = ctx.kiosk
    fix_vi = "Tải lại danh sách thu hồi: `cccd-kiosk trust fetch-crl`."
    fix_en = "Fetch the revocation lists again: `cccd-kiosk trust fetch-crl`."
    if kiosk is None or kiosk.trust is None:
        return Check("crl", "skip", "no trust store (see trust)")
    crls = kiosk.trust.crls()
    if not crls:
        if ctx.settings.demo:
            return Check("crl", "ok", "no CRLs (demo)")
        return Check(
            "crl", "warn", "no CRLs: a revoked document signer is not recognised", fix_vi, fix_en
        )
    now = datetime.now(UTC)
    stale = [c for c in crls if c.next_update is not None and c.next_update < now]
    if stale:
        oldest = min(c.next_update for c in stale if c.next_update is not None)
        return Check(
            "crl",
            "warn",
            f"{len(stale)} of {len(crls)} CRLs past their nextUpdate (since {oldest:%Y-%m-%d})",
            fix_vi,
            fix_en,
        )
    soonest = min((c.next_update for c in crls if c.next_update is not None), default=None)
    until = f", next update due {soonest:%Y-%m-%d}" if soonest else ""
    return Check("crl", "ok", f"{len(crls)} CRLs current{until}")


#: Statuses a HIS answers a kiosk it does not accept with.
_REFUSED = (401, 403)


def check_his(ctx: Context) -> Check:
    """The HIS the outbox delivers to answers, over TLS when not local, and accepts the
    kiosk's token or client certificate (a GET with them: 401/403 is a refusal)."""
    import os

    import httpx

    from kiosk.app.kiosk import HIS_TOKEN_ENV
    from kiosk.bounded_http import check_url, tls_context
    from offline_cache.his_errors import HisTlsError, HisUrlRefused

    his = ctx.settings.config.his
    if not his.url:
        return Check("his", "skip", "not configured ([his] url): check-ins stay on this kiosk")
    token = os.environ.get(HIS_TOKEN_ENV) or None
    started = time.monotonic()
    try:
        check_url(
            his.url,
            allow_insecure_http=his.allow_insecure_http,
            what="the HIS URL",
            error=HisUrlRefused,
        )
        tls = tls_context(
            ca_bundle=his.ca_bundle,
            client_cert=his.client_cert,
            client_key=his.client_key,
            error=HisTlsError,
        )
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        with httpx.Client(verify=tls, timeout=5.0, trust_env=False) as client:
            status = client.get(his.url, headers=headers).status_code
    except httpx.TransportError as exc:
        return Check(
            "his",
            "fail",
            f"{his.url}: not reachable ({type(exc).__name__})",
            "Kiểm tra mạng tới hệ thống HIS và [his] url trong tệp cấu hình.",
            "Check the network to the HIS and [his] url in the config file.",
        )
    except Exception as exc:
        return _failed("his", exc, his.url)
    ms = (time.monotonic() - started) * 1000
    if status in _REFUSED:
        return Check(
            "his",
            "fail",
            f"{his.url}: HTTP {status}, the HIS refuses the kiosk"
            + ("" if token else " (no token set)"),
            f"Đặt mã HIS đúng vào ${HIS_TOKEN_ENV} (tệp /etc/cccd-kiosk/env) hoặc chứng thư "
            "máy khách ([his] client_cert).",
            f"Set the HIS's token in ${HIS_TOKEN_ENV} (/etc/cccd-kiosk/env) or the client "
            "certificate ([his] client_cert).",
        )
    if status >= 500:
        return Check(
            "his",
            "warn",
            f"{his.url}: HTTP {status} in {ms:.0f} ms",
            "Hệ thống HIS đang lỗi: check-in chờ trong hàng đợi; báo bộ phận IT bệnh viện.",
            "The HIS is failing: check-ins wait in the outbox; tell the hospital's IT.",
        )
    auth = "token" if token else ("client certificate" if his.client_cert else "no credentials")
    return Check("his", "ok", f"{his.url}: answers in {ms:.0f} ms (HTTP {status}), {auth}")


def check_trust(ctx: Context) -> Check:
    """The trust store: how much is trusted, and whether the CCCD's CSCA is among it."""
    kiosk = ctx.kiosk
    fix_vi = (
        f"Tải chứng thư '{CCCD_CSCA}' và ghim: `cccd-kiosk trust add TỆP --sha256 DẤU_VÂN_TAY`."
    )
    fix_en = (
        f"Download the '{CCCD_CSCA}' certificate and pin it: "
        "`cccd-kiosk trust add FILE --sha256 FP`."
    )
    if kiosk is None:
        return Check("trust", "skip", "no kiosk (see config)")
    if kiosk.trust is None:
        return Check("trust", "fail", "nothing trusted: no card verifies", fix_vi, fix_en)
    stats = kiosk.trust.stats
    detail = f"{stats.certificates} CSCA, {stats.master_lists} master lists, {stats.crls} CRLs"
    if not any(CCCD_CSCA in c.subject for c in kiosk.trust.certificates()):
        status: Status = "ok" if ctx.settings.demo else "warn"
        note = "; demo CSCA only" if ctx.settings.demo else f"; no '{CCCD_CSCA}'"
        fixes = ("", "") if status == "ok" else (fix_vi, fix_en)
        return Check("trust", status, detail + note, *fixes)
    return Check("trust", "ok", detail + f"; '{CCCD_CSCA}' installed")


def check_printer(ctx: Context) -> Check:
    """The ticket printer answers DLE EOT, is online, closed and has paper."""
    url = ctx.settings.config.printer.url
    if not url:
        return Check("printer", "skip", "not configured ([printer] url): no tickets")
    from drivers.printer import check, query_status

    try:
        status = query_status(url, timeout=ctx.settings.config.printer.timeout_s)
        if status is not None:
            check(status)
    except Exception as exc:
        return _failed("printer", exc, url)
    paper = status.paper if status is not None else "unknown (file)"
    if status is not None and status.paper == "low":
        return Check(
            "printer",
            "warn",
            f"{url}: paper low",
            "Sắp hết giấy: thay cuộn giấy mới.",
            "Paper is low: load a new roll.",
        )
    return Check("printer", "ok", f"{url}: online, paper {paper}")


#: Clock skew (seconds) against the gateway's ``Date`` header: a warning above, a failure
#: above the second (tokens and TLS certificates stop being accepted).
CLOCK_WARN_S = 60.0
CLOCK_FAIL_S = 300.0


def check_clock(ctx: Context) -> Check:
    """This machine's clock against the gateway's HTTP ``Date`` header."""
    import email.utils
    from datetime import UTC, datetime

    import httpx

    kiosk = ctx.kiosk
    gw = ctx.settings.config.gateway
    url = kiosk.gateway.url if kiosk is not None and kiosk.gateway is not None else gw.url
    if not url:
        return Check("clock", "skip", "no gateway to compare with")
    try:
        resp = httpx.get(url, timeout=gw.timeout_s, verify=gw.ca_bundle or True)
        header = resp.headers.get("date")
        theirs = email.utils.parsedate_to_datetime(header) if header else None
    except (httpx.HTTPError, TypeError, ValueError) as exc:
        return Check("clock", "skip", f"{url}: no Date to compare with ({type(exc).__name__})")
    if theirs is None:
        return Check("clock", "skip", f"{url}: the answer has no Date header")
    skew = (datetime.now(UTC) - theirs).total_seconds()
    detail = f"{skew:+.0f} s against {url}"
    if abs(skew) <= CLOCK_WARN_S:
        return Check("clock", "ok", detail)
    return Check(
        "clock",
        "fail" if abs(skew) > CLOCK_FAIL_S else "warn",
        detail,
        "Chỉnh đồng hồ máy: bật đồng bộ giờ `timedatectl set-ntp true`.",
        "Set the clock right: turn on time sync, `timedatectl set-ntp true`.",
    )


#: Every check, by name, in report order.
CHECKS: tuple[tuple[str, Callable[[Context], Check]], ...] = (
    ("config", check_config),
    ("reader", check_reader),
    ("nfc", check_nfc),
    ("gateway", check_gateway),
    ("his", check_his),
    ("trust", check_trust),
    ("crl", check_crl),
    ("data folder", check_data_folder),
    ("disk", check_disk),
    ("journal", check_journal),
    ("audit", check_audit),
    ("printer", check_printer),
    ("clock", check_clock),
)


def _hung(name: str, timeout_s: float) -> Check:
    return Check(
        name,
        "fail",
        f"no answer within {timeout_s:.0f} s",
        "Thiết bị hoặc dịch vụ không trả lời: kiểm tra mạng và nguồn điện.",
        "The device or service does not answer: check the network and power.",
    )


def run_checks(
    settings: Settings,
    *,
    timeout_s: float = CHECK_TIMEOUT_S,
    checks: tuple[tuple[str, Callable[[Context], Check]], ...] = CHECKS,
    kiosk: Kiosk | None = None,
) -> list[Check]:
    """``checks`` (default: all) over ``settings``, in order, each bounded by ``timeout_s``.
    ``kiosk``: the running kiosk to look at (the Qt settings screen: its gateway, its
    storage), left open; by default one is built from ``settings`` and closed after.

    The checks run concurrently, one daemon thread each, so the report takes about as long as
    its slowest check and at most ``timeout_s``; one that has not answered by then is a
    ``fail`` line (its thread is left behind, never waited for)."""
    own = kiosk is None
    error: BaseException | None = None
    if kiosk is None:
        try:
            kiosk = Kiosk(settings, purge_at_start=False)
        except Exception as exc:
            error = exc
    ctx = Context(settings, kiosk, error)
    results: dict[int, Check] = {}

    def run(i: int, name: str, fn: Callable[[Context], Check]) -> None:
        try:
            results[i] = fn(ctx)
        except Exception as exc:  # a check's own bug: a line, not a crash of the report
            results[i] = _failed(name, exc, "check crashed")

    try:
        threads = [
            threading.Thread(target=run, args=(i, name, fn), daemon=True, name=f"doctor-{name}")
            for i, (name, fn) in enumerate(checks)
        ]
        deadline = time.monotonic() + timeout_s
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.0, deadline - time.monotonic()))
        return [results.get(i) or _hung(name, timeout_s) for i, (name, _) in enumerate(checks)]
    finally:
        if own and kiosk is not None:
            kiosk.close()


def is_ok(checks: list[Check]) -> bool:
    """Nothing failed (warnings and skips are fine)."""
    return not any(c.status == "fail" for c in checks)


def to_json(checks: list[Check]) -> dict[str, Any]:
    """The stable ``--json`` document: ``{"ok": bool, "checks": [...]}``."""
    return {"ok": is_ok(checks), "checks": [c.to_json() for c in checks]}


def to_text(checks: list[Check]) -> str:
    """One line per check, and its fix (both languages) under a non-ok line."""
    lines = []
    for c in checks:
        lines.append(f"{c.status.upper():4}  {c.name:11}  {c.detail}")
        if c.fix_vi:
            lines.append(f"      → {c.fix_vi}")
            lines.append(f"      → {c.fix_en}")
    return "\n".join(lines)


__all__ = ["CHECKS", "Check", "is_ok", "run_checks", "to_json", "to_text"]
