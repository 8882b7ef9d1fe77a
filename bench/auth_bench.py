"""CPU time of the authenticity checks: Passive Authentication (RSA-2048 and ECDSA-P256
Document Signers), Active Authentication and Chip Authentication, median of N.

PA runs over the default sample card's real DGs with a fresh SOD signed by a
DSC of the given kind under a CSCA of the same kind (the trust store holds the
CSCA), so the figure covers the whole check: SOD parse, signed-attribute
signature, message digest, every DG hash, DSC chain. AA and CA are timed on
the reader side only (chip time subtracted), through the in-process simulator.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID

from bench.common import ChipClock
from drivers.simulated import LinkModel, SimulatedTransport
from kiosk.cccd import access
from kiosk.emrtd import aa, ca
from kiosk.emrtd.lds import dg14, dg15, sod
from kiosk.emrtd.pa import passive_authentication
from kiosk.emrtd.session import READ_STEPS, ReaderSession
from kiosk.emrtd.trust import TrustStore
from simulators.card.chip import Chip
from simulators.card.personalize import make_chip
from simulators.card.profile import load_profile

RUNS = 60
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


def _pa_case(kind: str, files: dict[str, bytes], folder: Path) -> Callable[[], str]:
    def new_key() -> PrivateKey:
        if kind == "rsa":
            return rsa.generate_private_key(65537, 2048)
        return ec.generate_private_key(ec.SECP256R1())

    csca_key, dsc_key = new_key(), new_key()
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

    def run() -> str:
        result = passive_authentication(sod.parse(raw), files, trust, protected=("DG3",))
        return result.verdict

    return run


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
    card = make_chip("default")
    files = {f"DG{n}": raw for n, raw in card.files.dgs.items() if n != 3}
    files["EF.SOD"] = card.files.sod
    with tempfile.TemporaryDirectory() as tmp:
        for kind, label in (("rsa", "RSA-2048"), ("ec", "ECDSA-P256")):
            case = _pa_case(kind, files, Path(tmp))
            verdict = case()
            print(
                f"PA, {label} DSC + CSCA ({verdict}): {_median_ms(_time(case))}  (target <= 5 ms)"
            )
    for card_name, label in (("default", "RSA-2048"), ("anh-tuyet", "ECDSA brainpoolP256r1")):
        samples, outcome = _reader_side(card_name, "AA")
        print(f"AA, {label} ({outcome}): {_median_ms(samples)}")
    samples, outcome = _reader_side("default", "CA")
    print(f"CA, ECDH brainpoolP256r1 + proof read ({outcome}): {_median_ms(samples)}")


if __name__ == "__main__":
    main()
