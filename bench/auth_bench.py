"""CPU time of the authenticity checks: Passive Authentication side by side with pymrtd's
steps, Active Authentication and Chip Authentication, median of N.

PA per card covers the whole check: SOD parse, signed-attribute signature, message
digest, every DG hash, DSC chain (from the trust store's chain cache once the DSC has
been seen: the steady state of a kiosk, where thousands of cards share a DSC). It is
timed next to :mod:`bench.pymrtd_steps` — a reimplementation of pymrtd 0.6.5's steps
(pymrtd is not on PyPI and cannot be imported with current cryptography; see that
module) — on the same dumps: the real EF.SODs in ``tests/data/real_sods`` (gmrtd's set,
trusted through the DE and NL master lists), the simulator's sample cards with all
their DGs (brainpoolP256r1 signers), and fresh SODs over the default card's DGs signed
by RSA-2048, ECDSA-P256 and brainpoolP384r1 (the real CCCD's curve) signers. Ratios are
ours / pymrtd-steps per card; the target is <= 0.5 for RSA and for ECDSA signers.
AA and CA are timed on the reader side only (chip time subtracted), through the
in-process simulator.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bench import pymrtd_steps
from bench.common import ChipClock
from drivers.simulated import LinkModel, SimulatedTransport
from kiosk.cccd import access
from kiosk.emrtd import aa, ca
from kiosk.emrtd.certs import Certificate
from kiosk.emrtd.lds import dg14, dg15, sod
from kiosk.emrtd.pa import chain_cache_info, passive_authentication
from kiosk.emrtd.session import READ_STEPS, ReaderSession
from kiosk.emrtd.trust import TrustStore
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip, personalize
from simulators.card.pki import demo_trust_store, load_or_create_pki
from simulators.card.profile import load_profile

RUNS = 60
#: The check time of the PA cases (fixed, so verdicts do not move with the calendar).
NOW = dt.datetime(2026, 11, 24, 8, 0, tzinfo=dt.UTC)
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def _median_ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.2f} ms (n={len(samples)})"


def _cert(
    subject: str, key: PrivateKey, issuer: str, issuer_key: PrivateKey, ca_cert: bool
) -> x509.Certificate:
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca_cert, path_length=0 if ca_cert else None), True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=not ca_cert,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca_cert,
                crl_sign=ca_cert,
                encipher_only=False,
                decipher_only=False,
            ),
            True,
        )
    )
    return builder.sign(issuer_key, hashes.SHA256())


def _new_key(kind: str) -> PrivateKey:
    if kind == "rsa":
        return rsa.generate_private_key(65537, 2048)
    if kind == "bp384":
        return ec.generate_private_key(ec.BrainpoolP384R1())
    return ec.generate_private_key(ec.SECP256R1())


def _signed_case(kind: str, files: dict[str, bytes], folder: Path) -> tuple[bytes, TrustStore]:
    """A fresh SOD over ``files`` signed by a new DSC of ``kind``, and a store trusting its CSCA."""
    csca_key, dsc_key = _new_key(kind), _new_key(kind)
    csca = _cert(f"CSCA bench {kind}", csca_key, f"CSCA bench {kind}", csca_key, True)
    dsc = _cert(f"DS bench {kind}", dsc_key, f"CSCA bench {kind}", csca_key, False)
    pem = folder / f"csca-{kind}.pem"
    pem.write_bytes(csca.public_bytes(serialization.Encoding.PEM))
    trust = TrustStore.from_paths([pem])
    card_sod = sod.parse(files["EF.SOD"])
    raw = sod.encode(
        card_sod.lds_security_object,
        signer_cert_der=dsc.public_bytes(serialization.Encoding.DER),
        signer_key=dsc_key,
        signing_time=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )
    return raw, trust


@dataclass(frozen=True)
class PaCase:
    """One dump to verify: its EF.SOD, its DGs and the trust to verify it with."""

    label: str
    raw_sod: bytes
    files: dict[str, bytes]
    trust: TrustStore


@dataclass(frozen=True)
class PaRow:
    label: str
    signer: str
    ours: float
    cold: float
    theirs: float | None
    note: str

    @property
    def ratio(self) -> float | None:
        return None if self.theirs is None else self.ours / self.theirs


def _signer_kind(raw_sod: bytes) -> str:
    """``RSA-2048``, ``ECDSA brainpoolP384r1``…: the DSC's key, as the bench groups it."""
    parsed = sod.parse(raw_sod)
    der = parsed.signer_certificate()
    assert der is not None
    key = Certificate.from_der(der).public_key()
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    return f"ECDSA {key.curve.name}"


def _pa_cases(folder: Path) -> list[PaCase]:
    cases: list[PaCase] = []
    real = Path(__file__).resolve().parent.parent / "tests" / "data"
    store = TrustStore.from_paths(
        [*sorted((real / "masterlists").glob("*.ml")), real / "real_sods/csca/IDN_2020-10_CSCA.cer"]
    )
    for path in sorted((real / "real_sods").glob("*.sod")):
        if path.stem != "NZ-der":  # the same document as NZ.sod
            cases.append(PaCase(f"real {path.stem}", path.read_bytes(), {}, store))
    demo = demo_trust_store()
    pki = load_or_create_pki()
    for card in ("default", "anh-tuyet", "elder", "teen"):
        made = personalize(load_profile(card), pki)
        files = {f"DG{n}": raw for n, raw in made.dgs.items() if n != 3}
        cases.append(PaCase(f"sim {card}", made.sod, files, demo))
    chip = make_chip("default")
    dgs = {f"DG{n}": raw for n, raw in chip.files.dgs.items() if n != 3}
    for kind in ("rsa", "p256", "bp384"):
        raw, trust = _signed_case(kind, {**dgs, "EF.SOD": chip.files.sod}, folder)
        cases.append(PaCase(f"fresh {kind}", raw, dgs, trust))
    return cases


def _pa_row(case: PaCase, runs: int) -> PaRow:
    def ours() -> str:
        return passive_authentication(
            sod.parse(case.raw_sod), case.files, case.trust, protected=("DG3",), now=NOW
        ).verdict

    def cold() -> str:
        return passive_authentication(
            sod.parse(case.raw_sod),
            case.files,
            case.trust,
            protected=("DG3",),
            now=NOW,
            chain_cache=False,
        ).verdict

    verdict = ours()
    signer = _signer_kind(case.raw_sod)
    index = pymrtd_steps.CscaIndex(c.der for c in case.trust.certificates())
    theirs: float | None = None
    note = verdict
    try:
        pymrtd_steps.verify(case.raw_sod, case.files, index)
        theirs = statistics.median(
            _time(lambda: pymrtd_steps.verify(case.raw_sod, case.files, index), runs)
        )
    except pymrtd_steps.StepsError as exc:
        note += f"; pymrtd steps refuse it: {exc}"
    except ValueError as exc:  # asn1crypto/cryptography refusing what pymrtd's patch allowed
        note += f"; pymrtd steps cannot run it: {exc}"
    before = chain_cache_info(case.trust).hits
    ours_ms = statistics.median(_time(ours, runs))
    assert chain_cache_info(case.trust).hits > before  # the steady state really is cached
    return PaRow(case.label, signer, ours_ms, statistics.median(_time(cold, runs)), theirs, note)


def pa_side_by_side(runs: int = RUNS) -> list[PaRow]:
    """Every case's row (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        return [_pa_row(case, runs) for case in _pa_cases(Path(tmp))]


def _print_pa(rows: list[PaRow]) -> None:
    print(
        "PA per card vs pymrtd 0.6.5's steps (bench/pymrtd_steps.py: a reimplementation, "
        "pymrtd is not on PyPI), CPU ms, medians:"
    )
    print(f"  {'dump':<16} {'DSC key':<24} {'ours':>6} {'no cache':>8} {'pymrtd':>7} {'ratio':>6}")
    for r in rows:
        theirs = "-" if r.theirs is None else f"{r.theirs * 1000:.2f}"
        ratio = "-" if r.ratio is None else f"{r.ratio:.2f}"
        print(
            f"  {r.label:<16} {r.signer:<24} {r.ours * 1000:6.2f} {r.cold * 1000:8.2f} "
            f"{theirs:>7} {ratio:>6}  {r.note}"
        )
    for family in ("RSA", "ECDSA"):
        compared = [r for r in rows if r.signer.startswith(family) and r.ratio is not None]
        if not compared:
            continue
        ratios = [r.ratio for r in compared if r.ratio is not None]
        ours_ms = statistics.median(r.ours for r in compared) * 1000
        theirs_ms = statistics.median(r.theirs for r in compared if r.theirs is not None) * 1000
        verdict = "met" if max(ratios) <= 0.5 else "NOT met"
        print(
            f"PA {family} signers ({len(compared)} dumps): median {ours_ms:.2f} ms ours vs "
            f"{theirs_ms:.2f} ms pymrtd steps; ratio median {statistics.median(ratios):.2f}, "
            f"worst {max(ratios):.2f}  (target <= 0.5 per card: {verdict})"
        )


def _time(fn: Callable[[], object], runs: int = RUNS) -> list[float]:
    fn()  # warm up
    out = []
    for _ in range(runs):
        t0 = time.process_time()
        fn()
        out.append(time.process_time() - t0)
    return out


def _reader_side(card: str, check: str, runs: int = RUNS) -> tuple[list[float], str]:
    """Reader CPU of one AA or CA exchange on a freshly opened card (chip time subtracted)."""
    profile = load_profile(card)
    template = make_chip(card, extended_length=True)
    key = access.key_from_id(profile.id_number)
    samples: list[float] = []
    outcome = ""
    for _ in range(runs + 2):
        clock = ChipClock(
            SimulatedTransport(Chip(template.files, template.options), LinkModel.zero())
        )
        session = ReaderSession(clock, steps=READ_STEPS)
        result = session.read([key])
        p14 = dg14.parse(result.files["DG14"])
        before_chip = clock.inside
        t0 = time.process_time()
        if check == "AA":
            out: object = aa.active_authentication(
                session.channel, dg15.parse(result.files["DG15"]), p14
            )
        else:
            out = ca.chip_authentication(session.channel, p14, result.card_access)
        samples.append(time.process_time() - t0 - (clock.inside - before_chip))
        outcome = getattr(out, "result", "?")
    return samples[2:], outcome


def main() -> None:
    os.environ.setdefault(
        "CCCD_SIM_HOME", os.path.join(tempfile.gettempdir(), f"cccd-kiosk-bench-{os.getuid()}")
    )
    print("== auth: CPU time of PA, AA, CA (reader side) ==")
    _print_pa(pa_side_by_side())
    for card_name, label in (("default", "RSA-2048"), ("anh-tuyet", "ECDSA brainpoolP256r1")):
        samples, outcome = _reader_side(card_name, "AA")
        print(f"AA, {label} ({outcome}): {_median_ms(samples)}")
    samples, outcome = _reader_side("default", "CA")
    print(f"CA, ECDH brainpoolP256r1 + proof read ({outcome}): {_median_ms(samples)}")


if __name__ == "__main__":
    main()
