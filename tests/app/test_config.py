"""kiosk.config: the TOML file, its defaults and typed errors, and reader names."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.config import (
    Config,
    ConfigError,
    ConfigSyntaxError,
    ConfigValueError,
    ReaderConfig,
    ReaderSpec,
    ReaderSpecSyntaxError,
    UnknownConfigKey,
    load_config,
    parse_config,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_empty_file_is_all_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, ""))
    assert config == Config()
    assert config.reader.name == "auto"
    assert config.reader.spec == ReaderSpec("auto")


@pytest.mark.parametrize(
    ("name", "kind", "value"),
    [
        ("auto", "auto", ""),
        ("pcsc", "pcsc", ""),
        (
            "pcsc:ACS ACR1281 1S Dual Reader PICC 00 00",
            "pcsc",
            "ACS ACR1281 1S Dual Reader PICC 00 00",
        ),
        ("nfc", "nfc", "usb"),
        ("nfc:usb:054c:06c3", "nfc", "usb:054c:06c3"),
        ("sim:teen", "sim", "teen"),
        ("sim", "sim", "default"),
    ],
)
def test_reader_names(tmp_path: Path, name: str, kind: str, value: str) -> None:
    config = load_config(_write(tmp_path, f'[reader]\nname = "{name}"\n'))
    assert config.reader.name == name
    assert config.reader.spec == ReaderSpec(kind, value)


def test_spec_round_trips_to_text() -> None:
    assert str(ReaderSpec.parse("nfc")) == "nfc:usb"
    assert str(ReaderSpec.parse("auto")) == "auto"
    assert ReaderSpec.parse(str(ReaderSpec.parse("pcsc:HID"))) == ReaderSpec("pcsc", "HID")


@pytest.mark.parametrize("spec", ["floppy", "auto:1", "nfc:", "Pcsc", ""])
def test_bad_reader_specs(spec: str) -> None:
    with pytest.raises(ReaderSpecSyntaxError):
        ReaderSpec.parse(spec)


def test_bad_reader_name_in_file_names_the_key_and_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '[reader]\nname = "floppy:0"\n')
    with pytest.raises(ConfigValueError) as info:
        load_config(path)
    assert info.value.key == "reader.name"
    assert info.value.path == str(path)
    assert str(info.value).startswith(f"{path}: reader.name: unknown reader 'floppy:0'")


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ('[reader]\nnmae = "pcsc"\n', "reader.nmae"),
        ('[readers]\nname = "pcsc"\n', "readers"),
        ('colour = "blue"\n', "colour"),
    ],
)
def test_unknown_keys_are_errors_that_name_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(UnknownConfigKey) as info:
        load_config(_write(tmp_path, text))
    assert info.value.key == key
    assert f"{key}: unknown" in str(info.value)


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        ("[reader]\nname = 3\n", "reader.name", "must be a string"),
        ("reader = 3\n", "reader", "must be a [reader] section"),
        ("[reader]\nname = true\n", "reader.name", "must be a string"),
    ],
)
def test_wrong_types_name_the_key(tmp_path: Path, text: str, key: str, needle: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        load_config(_write(tmp_path, text))
    assert info.value.key == key
    assert needle in str(info.value)


def test_toml_syntax_error_has_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigSyntaxError, match="line 2"):
        load_config(_write(tmp_path, '[reader]\nname = "pcsc\n'))


def test_missing_and_binary_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the file") as info:
        load_config(tmp_path / "nope.toml")
    assert info.value.path == str(tmp_path / "nope.toml")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigSyntaxError, match="UTF-8"):
        load_config(binary)


def test_errors_share_one_base_class() -> None:
    for cls in (ConfigSyntaxError, UnknownConfigKey, ConfigValueError):
        assert issubclass(cls, ConfigError)


def test_dataclass_defaults_are_checked_too() -> None:
    with pytest.raises(ConfigValueError):
        ReaderConfig(name="nope")
    assert parse_config('[reader]\nname = "pcsc"\n').reader.name == "pcsc"


def test_ui_section_defaults_and_values(tmp_path: Path) -> None:
    from kiosk.config import UiConfig

    assert Config().ui == UiConfig()
    assert (Config().ui.mode, Config().ui.language) == ("self", "vi")
    assert Config().ui.idle_timeout_s == 60.0 and Config().ui.fullscreen is True
    digest = "scrypt$16384$8$1$c2FsdHNhbHRzYWx0$" + "A" * 43 + "="
    config = load_config(
        _write(
            tmp_path,
            '[ui]\nmode = "reception"\nlanguage = "en"\nidle_timeout_s = 90\n'
            f'fullscreen = false\noperator_pin_hash = "{digest}"\nexport_dir = "/srv/x"\n',
        )
    )
    assert config.ui == UiConfig("reception", "en", 90.0, False, digest, "/srv/x")


@pytest.mark.parametrize(
    ("text", "key", "error"),
    [
        ('[ui]\nmode = "kiosk"\n', "ui.mode", ConfigValueError),
        ('[ui]\nlanguage = "fr"\n', "ui.language", ConfigValueError),
        ("[ui]\nidle_timeout_s = 0\n", "ui.idle_timeout_s", ConfigValueError),
        ('[ui]\nfullscreen = "yes"\n', "ui.fullscreen", ConfigValueError),
        ('[ui]\noperator_pin_hash = "1234"\n', "ui.operator_pin_hash", ConfigValueError),
        ("[ui]\nidle_timeout_s = 1e12\n", "ui.idle_timeout_s", ConfigValueError),
        ('[ui]\noperator_pin = "1234"\n', "ui.operator_pin", UnknownConfigKey),
        ("[ui]\nidle_timeout = 5\n", "ui.idle_timeout", UnknownConfigKey),
        ("[ui]\nwarning_s = -1\n", "ui.warning_s", ConfigValueError),
        ("[ui]\nresult_timeout_s = 0\n", "ui.result_timeout_s", ConfigValueError),
        ("[ui]\ncard_reminder_s = 900\n", "ui.card_reminder_s", ConfigValueError),
    ],
)
def test_ui_section_errors_name_the_key(
    tmp_path: Path, text: str, key: str, error: type[ConfigError]
) -> None:
    with pytest.raises(error) as info:
        load_config(_write(tmp_path, text))
    assert info.value.key == key
    assert "1234" not in str(info.value)  # a PIN-like value is never echoed


def test_trust_paths_section() -> None:
    from kiosk.config import ConfigValueError, parse_config

    cfg = parse_config('[trust]\npaths = ["/etc/cccd-kiosk/csca", "de.ml"]\n')
    assert cfg.trust.paths == ("/etc/cccd-kiosk/csca", "de.ml")
    assert parse_config("").trust.paths == ()
    with pytest.raises(ConfigValueError) as err:
        parse_config('[trust]\npaths = "/etc/csca"\n')
    assert err.value.key == "trust.paths"


def test_read_uses_the_configs_trust_paths(tmp_path: Path) -> None:
    """--config with [trust] paths replaces demo trust: the test CSCA is then unknown."""
    import json as _json

    from tests.cli.test_cli import run

    other = tmp_path / "empty-but-valid"
    other.mkdir()
    (other / "note.txt").write_text("no certificates here")
    config = tmp_path / "kiosk.toml"
    config.write_text(f'[trust]\npaths = ["{other}"]\n')
    proc = run(
        "read", "--reader", "sim:default", "--can", "034517", "--config", str(config), "--json"
    )
    assert proc.returncode == 0, proc.stderr
    assert _json.loads(proc.stdout)["passive_auth"]["verdict"] == "issuer_unknown"


def test_a_config_path_must_be_a_small_regular_file(tmp_path: Path) -> None:
    """``--config /dev/zero`` (or a folder, or a huge file) is refused, never read whole."""
    for path in (Path("/dev/zero"), tmp_path):
        with pytest.raises(ConfigError, match="not a regular file"):
            load_config(path)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * (300 * 1024))
    with pytest.raises(ConfigError, match="larger than 256 KiB"):
        load_config(big)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[gateway]\ntimeout_s = 3600\n", "gateway.timeout_s"),
        ("[gateway]\nconnect_timeout_s = 1e9\n", "gateway.connect_timeout_s"),
        ("[storage]\ncache_ttl_hours = 1e6\nmax_stale_days = 1e6\n", "storage.cache_ttl_hours"),
        ("[storage]\nmax_stale_days = 5000\n", "storage.max_stale_days"),
        ('[reader]\nname = "sim:/etc/cccd/evil.toml"\n', "reader.name"),
        ('[reader]\nname = "sim:../profiles/default"\n', "reader.name"),
    ],
)
def test_numbers_and_reader_names_within_sane_bounds(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigValueError) as info:
        load_config(_write(tmp_path, text))
    assert info.value.key == key


def test_sim_takes_sample_card_names_and_faults() -> None:
    from kiosk.config import ReaderSpec, ReaderSpecSyntaxError

    assert ReaderSpec.parse("sim:default+clone").name == "default+clone"
    assert ReaderSpec.parse("sim").name == "default"
    with pytest.raises(ReaderSpecSyntaxError, match="sample card name"):
        ReaderSpec.parse("sim:/tmp/card.toml")


DEPARTMENTS = """
[[departments]]
code = "NOI"
name_vi = "Khoa Nội"
name_en = "Internal medicine"
room = "203"
open_hours = "07:00-16:30"

[[departments]]
code = "RHM"
name_vi = "Răng Hàm Mặt"
room = "105"
bhyt_self = false
"""


def test_departments_are_an_array_of_tables() -> None:
    from kiosk.config import parse_config

    config = parse_config(DEPARTMENTS)
    assert [d.code for d in config.departments] == ["NOI", "RHM"]
    noi, rhm = config.departments
    assert (noi.name("vi"), noi.name("en"), noi.room, noi.bhyt_self) == (
        "Khoa Nội",
        "Internal medicine",
        "203",
        True,
    )
    assert rhm.name("en") == "Răng Hàm Mặt" and not rhm.bhyt_self  # no English: Vietnamese
    assert config.department("rhm") is rhm and config.department("XYZ") is None


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ('[[departments]]\nname_vi = "Khoa Nội"\n', "departments[1].code", "required"),
        ('[[departments]]\ncode = "N O"\nname_vi = "x"\n', "departments[1].code", "letters"),
        (
            '[[departments]]\ncode = "A"\nname_vi = "a"\n[[departments]]\ncode = "B"\n'
            'name_vi = "b"\nopen_hours = "7h-16h"\n',
            "departments[2].open_hours",
            "HH:MM",
        ),
        (
            '[[departments]]\ncode = "A"\nname_vi = "a"\nroom_no = "1"\n',
            "departments[1].room_no",
            "unknown",
        ),
        (
            '[[departments]]\ncode = "A"\nname_vi = "a"\n'
            '[[departments]]\ncode = "a"\nname_vi = "b"\n',
            "departments",
            "unique",
        ),
        ('departments = "NOI"\n', "departments", "[[departments]]"),
    ],
)
def test_bad_departments_name_the_entry_and_key(text: str, key: str, words: str) -> None:
    from kiosk.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as info:
        parse_config(text, path="kiosk.toml")
    assert info.value.key == key
    assert words in str(info.value)


def test_clinic_names_are_read_named_in_errors_and_keyed_without_the_dash() -> None:
    config = parse_config(
        '[[clinics]]\ncode = "48001"\nname = "Bệnh viện Đà Nẵng"\n'
        '[[clinics]]\ncode = "01-001"\nname = "Bệnh viện Bạch Mai"\n'
    )
    assert config.clinic_names() == {"48001": "Bệnh viện Đà Nẵng", "01001": "Bệnh viện Bạch Mai"}
    from kiosk.config import clinic_label

    assert clinic_label("01001", config.clinic_names()) == "Bệnh viện Bạch Mai (01001)"
    assert clinic_label("99999", config.clinic_names()) == "99999"
    with pytest.raises(ConfigError) as err:
        parse_config(
            '[[clinics]]\ncode = "48001"\nname = "A"\n[[clinics]]\ncode = "4800"\nname = "B"\n'
        )
    assert "clinics[2].code" in str(err.value)
    with pytest.raises(ConfigError) as err:
        parse_config('[[clinics]]\ncode = "48001"\nname = ""\n')
    assert "clinics[1].name" in str(err.value)


def test_the_packaged_example_parses_once_uncommented() -> None:
    """/etc/cccd-kiosk/kiosk.toml's commented sections are real keys (a typo there would be
    copied by every clinic)."""
    import re

    example = Path(__file__).resolve().parents[2] / "packaging" / "deb" / "kiosk.toml"
    lines = [
        line[2:] if re.match(r"# (\[|\"?[\w.]+\"? *=)", line) else line
        for line in example.read_text(encoding="utf-8").splitlines()
    ]
    config = parse_config("\n".join(lines))
    assert config.status.port == 9478 and config.logging.format == "json"
    assert config.logging.levels == {"kiosk.eligibility": "DEBUG"}
