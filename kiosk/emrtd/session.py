"""One read of an eMRTD chip, as an explicit ordered list of small steps.

The order follows ARCHITECTURE.md: EF.CardAccess (read directly — a CCCD
answers 6D00 to SELECT MF) → PACE, or BAC → SELECT the eMRTD application →
EF.SOD → EF.COM → the data groups the SOD lists, small and decisive ones first
(DG1, DG13 before DG2) → parse → Chip Authentication → Active Authentication →
Passive Authentication. Each step is a
plain function of the :class:`ReadContext`, so it can be tested alone and
the list can be changed without touching the others.

Progress is reported through ``progress(phase, done_bytes, total_bytes)``;
``on_file(name, raw)`` fires as soon as each file is complete, so a caller
can start work on DG13 while DG2 is still being read.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from kiosk.emrtd import aa as aa_mod
from kiosk.emrtd import bac as bac_mod
from kiosk.emrtd import ca as ca_mod
from kiosk.emrtd import pa as pa_mod
from kiosk.emrtd import pace as pace_mod
from kiosk.emrtd.apdu import INS_SELECT, SW_FILE_NOT_FOUND, SW_OK, CommandAPDU
from kiosk.emrtd.channel import CardChannel
from kiosk.emrtd.errors import (
    AccessDenied,
    EmrtdError,
    StatusError,
    UnsupportedProtocol,
)
from kiosk.emrtd.lds import card_access as card_access_mod
from kiosk.emrtd.lds import com as com_mod
from kiosk.emrtd.lds import dg1 as dg1_mod
from kiosk.emrtd.lds import dg2 as dg2_mod
from kiosk.emrtd.lds import dg13 as dg13_mod
from kiosk.emrtd.lds import dg14 as dg14_mod
from kiosk.emrtd.lds import dg15 as dg15_mod
from kiosk.emrtd.lds import sod as sod_mod
from kiosk.emrtd.lds.files import (
    DATA_GROUPS,
    EF_CARD_ACCESS,
    EF_COM,
    EF_SOD,
    EMRTD_AID,
    READ_PRIORITY,
)
from kiosk.emrtd.passwords import CAN, AccessKey, MRZKey
from kiosk.emrtd.reader import FileReader, ProgressFn
from kiosk.emrtd.security_infos import ID_PACE_ECDH_CAM, PACEInfo
from kiosk.emrtd.trust import TrustStore
from kiosk.transport import Transport

SW_PROTECTED = 0x6982

FileHook = Callable[[str, bytes], None]


class AccessMode(StrEnum):
    """What access control the caller allows."""

    AUTO = "auto"  # PACE when the chip offers it, else BAC
    PACE = "pace"  # PACE or fail: never BAC
    BAC = "bac"  # BAC only (older chips, or to test it)


@dataclass
class ReadResult:
    """Everything one read produced: raw files exactly as read, and their parsed forms."""

    access_protocol: str
    files: dict[str, bytes]
    card_access: card_access_mod.CardAccess | None = None
    com: com_mod.EFCom | None = None
    sod: sod_mod.SOD | None = None
    dg1: dg1_mod.DG1 | None = None
    dg2: dg2_mod.DG2 | None = None
    dg13: dg13_mod.DG13 | None = None
    dg14: dg14_mod.DG14 | None = None
    dg15: dg15_mod.DG15 | None = None
    #: Files the chip refused with 6982 (EAC-protected, e.g. DG3): noted, not an error.
    protected: tuple[str, ...] = ()
    #: Files listed but not present (6A82).
    absent: tuple[str, ...] = ()
    #: Files read but not parseable: name → reason (raw bytes are still in ``files``).
    parse_errors: dict[str, str] = field(default_factory=dict)
    #: Passive Authentication (None when the step was not run).
    passive_auth: pa_mod.PassiveAuthResult | None = None
    #: Active Authentication: challenge and response kept as evidence.
    active_auth: aa_mod.AAResult | None = None
    #: Chip Authentication.
    chip_auth: ca_mod.CAResult | None = None
    apdus: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    @property
    def bytes_total(self) -> int:
        return self.bytes_sent + self.bytes_received


@dataclass
class ReadContext:
    """State handed from step to step during one read."""

    channel: CardChannel
    reader: FileReader
    keys: Sequence[AccessKey]
    access: AccessMode
    progress: ProgressFn
    on_file: FileHook | None
    read_dg2: bool = True
    files: dict[str, bytes] = field(default_factory=dict)
    card_access: card_access_mod.CardAccess | None = None
    access_protocol: str = ""
    sod: sod_mod.SOD | None = None
    com: com_mod.EFCom | None = None
    protected: list[str] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)
    parsed: dict[str, Any] = field(default_factory=dict)
    parse_errors: dict[str, str] = field(default_factory=dict)
    trust: TrustStore | None = None
    pace_result: pace_mod.PaceResult | None = None
    passive_auth: pa_mod.PassiveAuthResult | None = None
    active_auth: aa_mod.AAResult | None = None
    chip_auth: ca_mod.CAResult | None = None

    def got_file(self, name: str, raw: bytes) -> None:
        self.files[name] = raw
        if self.on_file is not None:
            self.on_file(name, raw)


Step = Callable[[ReadContext], None]


# ---- steps -----------------------------------------------------------------------------


def read_card_access(ctx: ReadContext) -> None:
    """Read EF.CardAccess at MF level without SELECT MF; absence means a BAC-only chip."""
    ctx.progress(EF_CARD_ACCESS.name, 0, 0)
    try:
        raw = _read_bare(ctx)
    except StatusError as exc:
        if exc.sw in (SW_FILE_NOT_FOUND, 0x6D00, 0x6986, 0x6A86, 0x6A81, SW_PROTECTED):
            return
        raise
    ctx.got_file(EF_CARD_ACCESS.name, raw)
    try:
        ctx.card_access = card_access_mod.parse(raw)
    except EmrtdError as exc:
        ctx.parse_errors[EF_CARD_ACCESS.name] = str(exc)


def _read_bare(ctx: ReadContext) -> bytes:
    """EF.CardAccess is a bare DER SET: size it from its own header like any TLV file."""
    return ctx.reader.read_file(EF_CARD_ACCESS, progress=ctx.progress)


def supported_pace_info(card_access: card_access_mod.CardAccess | None) -> PACEInfo | None:
    """The PACEInfo to run: chip authentication mapping first (it also proves the chip),
    then the chip's order among the ones this kiosk supports (ECDH GM, IM, CAM)."""
    if card_access is None:
        return None
    usable = [i for i in card_access.pace_infos if pace_mod.is_supported(i)]
    cam = [i for i in usable if i.protocol.startswith(ID_PACE_ECDH_CAM + ".")]
    chosen = cam or usable
    return chosen[0] if chosen else None


def establish_access(ctx: ReadContext) -> None:
    """Run PACE (or BAC) with each candidate key in turn until one opens the chip."""
    info = supported_pace_info(ctx.card_access)
    if ctx.access is AccessMode.PACE and info is None:
        raise UnsupportedProtocol("the card does not offer a PACE variant this kiosk supports")
    use_pace = info is not None and ctx.access is not AccessMode.BAC
    if not ctx.keys:
        raise AccessDenied("no access key given")
    denied: AccessDenied | None = None
    tried = 0
    for key in ctx.keys:
        if use_pace:
            assert info is not None
            ctx.progress("PACE", tried, len(ctx.keys))
            password = (
                pace_mod.PacePassword.from_can(key.value)
                if isinstance(key, CAN)
                else pace_mod.PacePassword.from_mrz(key.mrz_information)
            )
            try:
                ctx.pace_result = pace_mod.run(ctx.channel, password, info)
            except AccessDenied as exc:
                denied, tried = exc, tried + 1
                continue
            ctx.access_protocol = "PACE"
            return
        if isinstance(key, MRZKey):
            ctx.progress("BAC", tried, len(ctx.keys))
            try:
                bac_mod.bac(ctx.channel, key.mrz_information)
            except AccessDenied as exc:
                denied, tried = exc, tried + 1
                continue
            ctx.access_protocol = "BAC"
            return
    if tried == 0:
        why = "the card supports only BAC" if info is None else "BAC was asked for"
        raise UnsupportedProtocol(f"{why}, which needs the MRZ or the birth date, not the CAN")
    raise denied or AccessDenied("access key rejected")


def select_application(ctx: ReadContext) -> None:
    """SELECT the eMRTD application by AID (under secure messaging)."""
    ctx.progress("select", 0, 0)
    resp = ctx.channel.send(CommandAPDU(0x00, INS_SELECT, 0x04, 0x0C, EMRTD_AID))
    if resp.sw != SW_OK:
        raise StatusError(resp.sw, command="SELECT eMRTD application")


def read_sod(ctx: ReadContext) -> None:
    """Read EF.SOD: its hash list says which data groups exist."""
    raw = ctx.reader.read_file(EF_SOD, progress=ctx.progress)
    ctx.got_file(EF_SOD.name, raw)
    try:
        ctx.sod = sod_mod.parse(raw)
    except EmrtdError as exc:
        ctx.parse_errors[EF_SOD.name] = str(exc)


def read_com(ctx: ReadContext) -> None:
    """Read EF.COM (LDS version and tag list); its absence is noted, not fatal."""
    try:
        raw = ctx.reader.read_file(EF_COM, progress=ctx.progress)
    except StatusError as exc:
        if exc.sw == SW_FILE_NOT_FOUND:
            ctx.absent.append(EF_COM.name)
            return
        raise
    ctx.got_file(EF_COM.name, raw)
    try:
        ctx.com = com_mod.parse(raw)
    except EmrtdError as exc:
        ctx.parse_errors[EF_COM.name] = str(exc)


def data_groups_to_read(ctx: ReadContext) -> list[int]:
    """The DGs the SOD lists (EF.COM's list when the SOD is unreadable), in read order."""
    if ctx.sod is not None:
        listed = set(ctx.sod.lds_security_object.data_groups)
    elif ctx.com is not None:
        listed = set(ctx.com.data_groups)
    else:
        listed = {1, 2, 13, 14, 15}
    if not ctx.read_dg2:
        listed.discard(2)
    return [n for n in READ_PRIORITY if n in listed]


#: Data groups a chip may refuse without suspicion: fingerprints and iris, EAC-protected.
EAC_PROTECTED_DGS = frozenset({3, 4})


def read_data_groups(ctx: ReadContext) -> None:
    """Read each listed DG. DG3/DG4 answering 6982 are *protected* (EAC), which is normal;
    any other DG the chip refuses (6982) or lacks (6A82) is recorded as *withheld* — a
    genuine chip hands over everything its SOD lists, a clone may not."""
    for n in data_groups_to_read(ctx):
        info = DATA_GROUPS[n]
        try:
            raw = ctx.reader.read_file(info, progress=ctx.progress)
        except StatusError as exc:
            if exc.sw == SW_PROTECTED and n in EAC_PROTECTED_DGS:
                ctx.protected.append(info.name)
                continue
            if exc.sw in (SW_PROTECTED, SW_FILE_NOT_FOUND):
                ctx.absent.append(info.name)
                continue
            raise
        ctx.got_file(info.name, raw)


def withheld(ctx: ReadContext) -> list[str]:
    """DGs the SOD lists that the chip did not hand over (DG3/DG4 excepted)."""
    if ctx.sod is None:
        return []
    listed = ctx.sod.lds_security_object.data_groups
    return [
        f"DG{n}"
        for n in listed
        if n not in EAC_PROTECTED_DGS and f"DG{n}" not in ctx.files and (n != 2 or ctx.read_dg2)
    ]


_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "DG1": dg1_mod.parse,
    "DG2": dg2_mod.parse,
    "DG13": dg13_mod.parse,
    "DG14": dg14_mod.parse,
    "DG15": dg15_mod.parse,
}


def parse_data_groups(ctx: ReadContext) -> None:
    """Parse every DG read; a parse failure is recorded and the raw bytes are kept."""
    for name, parser in _PARSERS.items():
        raw = ctx.files.get(name)
        if raw is None:
            continue
        try:
            ctx.parsed[name] = parser(raw)
        except EmrtdError as exc:
            ctx.parse_errors[name] = str(exc)


def chip_authenticate(ctx: ReadContext) -> None:
    """Chip Authentication with the DG14 key; on success the session continues under its keys.

    After PACE-CAM the chip has already proven its key: check that proof
    against DG14 instead of running CA again.
    """
    ctx.progress("CA", 0, 0)
    dg14 = ctx.parsed.get("DG14")
    missing = _withheld_key_file(ctx, "DG14")
    if missing is not None:
        ctx.chip_auth = ca_mod.CAResult("failed", None, None, missing)
        return
    result = ctx.pace_result
    if result is not None and result.suite.protocol.startswith(ID_PACE_ECDH_CAM + "."):
        ctx.chip_auth = ca_mod.verify_cam(result, dg14)
        return
    ctx.chip_auth = ca_mod.chip_authentication(ctx.channel, dg14, ctx.card_access)


def _withheld_key_file(ctx: ReadContext, name: str) -> str | None:
    """A reason when the SOD lists ``name`` (DG14/DG15) but the chip withheld it or it is junk."""
    if name in withheld(ctx):
        return f"the chip withheld {name}, which its SOD lists — possibly a cloned chip"
    if name in ctx.parse_errors:
        return f"{name} could not be read as a key file — possibly a cloned chip"
    return None


def active_authenticate(ctx: ReadContext) -> None:
    """Active Authentication against DG15 (skipped when a failed CA has ended the session)."""
    ctx.progress("AA", 0, 0)
    missing = _withheld_key_file(ctx, "DG15")
    if missing is not None:
        ctx.active_auth = aa_mod.AAResult("failed", None, b"", b"", missing)
        return
    if ctx.chip_auth is not None and ctx.chip_auth.result == "failed":
        ctx.active_auth = aa_mod.AAResult(
            "not_supported", None, b"", b"", "not run: chip authentication failed first"
        )
        return
    ctx.active_auth = aa_mod.active_authentication(
        ctx.channel, ctx.parsed.get("DG15"), ctx.parsed.get("DG14")
    )


def passive_authenticate(ctx: ReadContext) -> None:
    """Passive Authentication: DG hashes, the SOD signature and the DSC chain to a CSCA."""
    ctx.progress("PA", 0, 0)
    if ctx.sod is None:
        ctx.passive_auth = pa_mod.PassiveAuthResult(
            "failed", "invalid", "invalid", ("EF.SOD could not be read or parsed",), None
        )
        return
    result = pa_mod.passive_authentication(ctx.sod, ctx.files, ctx.trust, protected=ctx.protected)
    if not ctx.read_dg2 and result.data_groups.get(DATA_GROUPS[2].name) == "missing":
        # Skipped on purpose (self-check needs no photo), not withheld by the chip.
        statuses = {**result.data_groups, DATA_GROUPS[2].name: "not_read"}
        result = replace(result, data_groups=statuses)
    refused = withheld(ctx)
    if refused:
        reasons = tuple(f"The chip refused {name}, which its SOD lists" for name in refused)
        result = replace(result, verdict="failed", reasons=result.reasons + reasons)
    ctx.passive_auth = result


#: The steps that only read (no verification).
READ_STEPS: tuple[Step, ...] = (
    read_card_access,
    establish_access,
    select_application,
    read_sod,
    read_com,
    read_data_groups,
    parse_data_groups,
)

#: The default ordered step list of a read: read, then CA → AA → PA.
DEFAULT_STEPS: tuple[Step, ...] = (
    *READ_STEPS,
    chip_authenticate,
    active_authenticate,
    passive_authenticate,
)


class ReaderSession:
    """Reads a chip through a :class:`Transport` by running :data:`DEFAULT_STEPS` in order."""

    def __init__(
        self,
        transport: Transport,
        *,
        access: AccessMode | str = AccessMode.AUTO,
        progress: ProgressFn | None = None,
        on_file: FileHook | None = None,
        keep_log: bool = False,
        read_dg2: bool = True,
        trust: TrustStore | None = None,
        steps: Sequence[Step] = DEFAULT_STEPS,
    ) -> None:
        self.transport = transport
        self.access = AccessMode(access)
        self.progress: ProgressFn = progress or (lambda phase, done, total: None)
        self.on_file = on_file
        self.read_dg2 = read_dg2
        self.trust = trust
        self.steps = list(steps)
        self.channel = CardChannel(transport, keep_log=keep_log)

    def read(self, keys: Sequence[AccessKey]) -> ReadResult:
        """Run every step with the candidate ``keys`` (tried in order) and return the result."""
        ctx = ReadContext(
            channel=self.channel,
            reader=FileReader(self.channel),
            keys=keys,
            access=self.access,
            progress=self.progress,
            on_file=self.on_file,
            read_dg2=self.read_dg2,
            trust=self.trust,
        )
        for step in self.steps:
            step(ctx)
        ch = self.channel
        return ReadResult(
            access_protocol=ctx.access_protocol,
            files=ctx.files,
            card_access=ctx.card_access,
            com=ctx.com,
            sod=ctx.sod,
            dg1=ctx.parsed.get("DG1"),
            dg2=ctx.parsed.get("DG2"),
            dg13=ctx.parsed.get("DG13"),
            dg14=ctx.parsed.get("DG14"),
            dg15=ctx.parsed.get("DG15"),
            protected=tuple(ctx.protected),
            absent=tuple(ctx.absent),
            parse_errors=ctx.parse_errors,
            passive_auth=ctx.passive_auth,
            active_auth=ctx.active_auth,
            chip_auth=ctx.chip_auth,
            apdus=ch.apdu_count,
            bytes_sent=ch.bytes_sent,
            bytes_received=ch.bytes_received,
        )
