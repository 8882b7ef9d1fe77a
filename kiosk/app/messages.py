"""What to tell a patient or receptionist when something goes wrong, in Vietnamese and English.

:func:`message_for` maps any exception raised by the kiosk's layers (transport, readers, the
ICAO 9303 stack, passive authentication, eligibility, configuration, offline storage, the
BHYT QR, the card simulator) to a :class:`UserMessage`: a short title saying what happened
and an action saying what to do next. The Qt screens and the terminal mode show it as is.

Why a table of class names instead of ``str(exc)``: exception texts are written for
developers and may carry personal data (a typed ID number, a name from a QR code). A message
is chosen only from the exception's *class* (walking its MRO, so a new subclass inherits its
parent's message) and, for access-key errors, from the ``field`` attribute, which names a
field and never holds a value. Nothing of the exception's own text ever reaches the screen.

Classes are matched by ``module.QualName`` so this module imports no layer (and no Qt): the
UI can call it from any thread, and the test discovers every project exception and checks
that each one gets a specific message.

This is the one error → words table of the product. The three front-ends all take their
words from it: the Qt error screen shows :meth:`UserMessage.title` and
:meth:`UserMessage.action` in the kiosk's language, the terminal kiosk prints both
languages, and the command line prints :func:`cli_line` and exits with
:attr:`UserMessage.exit_code`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Severity = Literal["info", "warning", "error"]

#: Exit codes of ``cccd-kiosk`` (also used by ``verify`` for its verdicts).
EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_ISSUER_UNKNOWN = 3
EXIT_NOT_GENUINE = 4
EXIT_ACCESS_DENIED = 5

#: Message keys whose cause is input or configuration the operator can fix (exit 2).
_USAGE_KEYS = frozenset(
    {
        "usage",
        "reader_spec",
        "access_key",
        "mrz",
        "bhyt_qr",
        "config",
        "config_syntax",
        "config_unknown_key",
        "config_value",
        "config_reader",
        "trust_store",
        "crl",
        "master_list",
        "gateway_config",
        "his_insecure",
        "simulator_unknown_card",
        "operator_pin",
        "simulator_fault",
        "simulator_profile",
        "printer_spec",
    }
)

#: Classes whose text is written for the operator and never holds personal data (a flag,
#: a config key, a file path, an environment variable, a reader name): the command line may
#: show it after the title. Every other exception's text stays out of every front-end.
_DETAIL_CLASSES = frozenset(
    {
        "kiosk.app.errors.UsageError",
        "kiosk.app.errors.NoHolderData",
        "kiosk.config.ConfigError",
        "kiosk.config.ReaderSpecSyntaxError",
        "drivers.errors.ReaderSpecError",
        "drivers.errors.NoCardFound",
        "drivers.pcsc.ReaderNotFound",
        "drivers.nfc.NfcUnavailable",
        "drivers.nfc.NfcReaderNotFound",
        "drivers.nfc.NfcReaderBusy",
        "drivers.nfc.NfcPermissionDenied",
        "drivers.pcsc.PcscUnavailable",
        "kiosk.emrtd.trust.TrustStoreError",
        "kiosk.emrtd.errors.UnsupportedProtocol",
        "kiosk.eligibility.errors.ConfigurationError",
        "offline_cache.his_errors.HisUrlRefused",
        "simulators.card.profile.UnknownProfile",
        "simulators.card.faults.FaultError",
    }
)


#: What a patient is told when the fix is staff's alone.
_PATIENT_DESK_VI = "Vui lòng đến quầy tiếp đón; nhân viên sẽ giúp bạn"
_PATIENT_DESK_EN = "Please go to the reception desk; staff will help you"
#: A clause telling someone to call the administrator (and what the administrator should do,
#: up to the next ";"), keeping a leading "if it still fails, " (group 1).
_ADMIN_CLAUSE_VI = re.compile(r"((?:.*,\s*)?(?:hãy\s+)?)báo quản trị viên[^;]*", re.IGNORECASE)
_ADMIN_CLAUSE_EN = re.compile(r"((?:.*,\s*)?)tell the administrator[^;]*", re.IGNORECASE)
#: Messages whose every instruction is for the operator (closing programs, restoring files).
_STAFF_KEYS = frozenset({"storage_busy", "operator_pin"})


@dataclass(frozen=True)
class UserMessage:
    """One bilingual message: what happened (title) and what to do next (action).

    ``severity`` is ``info`` (nothing is wrong for the patient), ``warning`` (the check-in
    goes on with less, e.g. from the offline cache) or ``error`` (the step failed). ``key``
    is a stable identifier for tests and the UI's icon choice; it is never shown.
    """

    title_vi: str
    title_en: str
    action_vi: str
    action_en: str
    severity: Severity
    key: str

    def title(self, language: str = "vi") -> str:
        """What happened, in ``language`` (``vi`` or ``en``)."""
        return self.title_en if language == "en" else self.title_vi

    def action(self, language: str = "vi") -> str:
        """What to do next, in ``language`` (``vi`` or ``en``)."""
        return self.action_en if language == "en" else self.action_vi

    def patient_action(self, language: str = "vi") -> str:
        """What to do next, for a patient at a self-check kiosk, in ``language``.

        The table's actions often name the administrator's fix ("tell the administrator to
        start the pcscd service"); a patient can do nothing with that. Each such clause
        becomes "go to the reception desk" (staff see the full action in reception, on the
        command line and in ``cccd-kiosk doctor``); a message whose whole action is the
        operator's (:data:`_STAFF_KEYS`) sends the patient to the desk.
        """
        if self.key in _STAFF_KEYS:
            return _PATIENT_DESK_EN if language == "en" else _PATIENT_DESK_VI
        text = self.action(language)
        pattern, desk = (
            (_ADMIN_CLAUSE_EN, "go to the reception desk")
            if language == "en"
            else (_ADMIN_CLAUSE_VI, "đến quầy tiếp đón")
        )
        clauses: list[str] = []
        for clause in text.split(";"):
            new = pattern.sub(lambda m: (m.group(1) or "") + desk, clause.strip()).strip()
            if new.lower() != desk:  # a patient's step, perhaps ending "…, go to the desk"
                clauses.append(new)
                continue
            # A clause that was all the administrator's: the desk, once; what followed it is
            # for staff too ("do not make a new key").
            if not any(desk in c.lower() for c in clauses):
                clauses.append(desk)
            break
        if clauses == [desk]:  # nothing for the patient but the desk: say it kindly
            return _PATIENT_DESK_EN if language == "en" else _PATIENT_DESK_VI
        out = "; ".join(clauses)
        return out[:1].upper() + out[1:]

    @property
    def exit_code(self) -> int:
        """The command line's exit code for this message: 2 for input or configuration the
        operator must fix (:data:`EXIT_USAGE`), 5 for a wrong access key
        (:data:`EXIT_ACCESS_DENIED`), 1 for every other failure (:data:`EXIT_FAILED`)."""
        if self.key in _USAGE_KEYS:
            return EXIT_USAGE
        if self.key == "access_denied":
            return EXIT_ACCESS_DENIED
        return EXIT_FAILED

    def text(self, language: str = "vi") -> str:
        """Title and action as one line in ``language`` (``vi`` or ``en``)."""
        if language == "en":
            return f"{self.title_en}. {self.action_en}."
        return f"{self.title_vi}. {self.action_vi}."


# ---- shared actions ----------------------------------------------------------------------

_RETRY_CHIP_VI = "Đặt lại thẻ và thử lại; nếu vẫn lỗi, hãy quét mã QR trên thẻ hoặc nhập tay"
_RETRY_CHIP_EN = (
    "Place the card again and retry; if it still fails, scan the QR code on the card "
    "or use manual entry"
)
_ADMIN_VI = "Báo quản trị viên"
_ADMIN_EN = "Tell the administrator"
_ADMIN_STORAGE_VI = "Báo quản trị viên; lượt check-in này có thể chưa được lưu"
_ADMIN_STORAGE_EN = "Tell the administrator; this check-in may not have been saved"
_DESK_VI = "Mời ghi nhớ số thứ tự trên màn hình và đến quầy tiếp đón"
_DESK_EN = "Note the number on the screen and go to the reception desk"
_TESTER_VI = "Chọn thẻ mẫu khác hoặc báo người kiểm thử"
_TESTER_EN = "Choose another sample card or tell the tester"


def _m(
    key: str, title_vi: str, title_en: str, action_vi: str, action_en: str, severity: Severity
) -> UserMessage:
    return UserMessage(title_vi, title_en, action_vi, action_en, severity, key)


#: The message for any exception no entry matches. Says nothing about the cause.
GENERIC = _m(
    "generic",
    "Đã xảy ra lỗi",
    "Something went wrong",
    "Thử lại; nếu vẫn lỗi, hãy báo nhân viên",
    "Try again; if it keeps happening, tell staff",
    "error",
)

#: ``module.QualName`` of an exception class → its message. Subclasses not listed inherit
#: the nearest listed ancestor's message (MRO order).
MESSAGES: dict[str, UserMessage] = {
    # ---- transport (kiosk.transport) ----
    "kiosk.transport.TransportError": _m(
        "transport",
        "Không liên lạc được với thẻ",
        "Could not talk to the card",
        "Đặt lại thẻ lên đầu đọc; nếu vẫn lỗi, hãy báo nhân viên",
        "Place the card on the reader again; if it still fails, tell staff",
        "error",
    ),
    "kiosk.transport.CardRemoved": _m(
        "card_removed",
        "Thẻ đã bị rút ra",
        "The card was removed",
        "Đặt lại thẻ lên đầu đọc",
        "Place the card on the reader again",
        "error",
    ),
    "kiosk.transport.TransportTimeout": _m(
        "transport_timeout",
        "Đầu đọc không trả lời kịp",
        "The reader did not answer in time",
        "Đặt lại thẻ lên đầu đọc và giữ yên đến khi xong",
        "Place the card on the reader again and hold it still until done",
        "error",
    ),
    # ---- readers (drivers) ----
    "drivers.errors.ReaderSpecError": _m(
        "reader_spec",
        "Đầu đọc thẻ chưa được cấu hình đúng",
        "The card reader is not configured correctly",
        "Báo quản trị viên kiểm tra cấu hình đầu đọc",
        "Tell the administrator to check the reader setting",
        "error",
    ),
    "drivers.errors.NoCardFound": _m(
        "no_card_found",
        "Không tìm thấy thẻ trên đầu đọc",
        "No card found on the reader",
        "Đặt thẻ lên đầu đọc; nếu đèn đầu đọc không sáng, hãy cắm lại đầu đọc",
        "Place the card on the reader; if the reader's light is off, plug the reader in",
        "error",
    ),
    "drivers.pcsc.ReaderGone": _m(
        "reader_gone",
        "Đầu đọc thẻ bị ngắt kết nối",
        "The card reader was disconnected",
        "Cắm lại đầu đọc rồi đặt lại thẻ",
        "Plug the reader back in, then place the card again",
        "error",
    ),
    "drivers.pcsc.ReaderNotFound": _m(
        "no_reader",
        "Không tìm thấy đầu đọc thẻ",
        "No card reader found",
        "Cắm đầu đọc thẻ vào máy rồi thử lại; nếu vẫn lỗi, hãy báo nhân viên",
        "Plug in the card reader and try again; if it still fails, tell staff",
        "error",
    ),
    "drivers.nfc.NfcUnavailable": _m(
        "nfc_unavailable",
        "Máy chưa dùng được đầu đọc NFC",
        "NFC readers cannot be used on this machine",
        "Báo quản trị viên cài nfcpy và libusb (cccd-kiosk doctor)",
        "Tell the administrator to install nfcpy and libusb",
        "error",
    ),
    "drivers.nfc.NfcReaderNotFound": _m(
        "nfc_no_reader",
        "Không tìm thấy đầu đọc NFC",
        "No NFC reader found",
        "Cắm đầu đọc NFC vào máy rồi thử lại; nếu vẫn lỗi, hãy báo nhân viên",
        "Plug in the NFC reader and try again; if it still fails, tell staff",
        "error",
    ),
    "drivers.nfc.NfcReaderBusy": _m(
        "nfc_busy",
        "Đầu đọc NFC đang bị chương trình khác giữ",
        "Another program holds the NFC reader",
        "Báo quản trị viên gỡ driver NFC của hệ thống hoặc dùng đầu đọc qua pcscd",
        "Tell the administrator to unload the system's NFC driver or use the reader via pcscd",
        "error",
    ),
    "drivers.nfc.NfcPermissionDenied": _m(
        "nfc_permission",
        "Không có quyền dùng đầu đọc NFC",
        "No permission to use the NFC reader",
        "Báo quản trị viên cài quy tắc udev cho đầu đọc rồi cắm lại",
        "Tell the administrator to install the reader's udev rule, then plug it in again",
        "error",
    ),
    "drivers.nfc.NfcReaderGone": _m(
        "nfc_gone",
        "Đầu đọc NFC bị ngắt kết nối",
        "The NFC reader was disconnected",
        "Cắm lại đầu đọc NFC rồi đặt lại thẻ",
        "Plug the NFC reader back in, then place the card again",
        "error",
    ),
    "drivers.pcsc.PcscUnavailable": _m(
        "pcsc_unavailable",
        "Dịch vụ đầu đọc thẻ chưa chạy",
        "The card reader service is not running",
        "Báo quản trị viên khởi động dịch vụ pcscd",
        "Tell the administrator to start the pcscd service",
        "error",
    ),
    "kiosk.app.errors.NoCard": _m(
        "no_card",
        "Chưa có thẻ trên đầu đọc",
        "No card on the reader",
        "Đặt thẻ lên đầu đọc",
        "Place the card on the reader",
        "info",
    ),
    "kiosk.app.errors.NoHolderData": _m(
        "no_holder_data",
        "Đã đọc thẻ nhưng không có dữ liệu chủ thẻ dùng được",
        "The card was read but holds no usable holder data",
        "Đặt lại thẻ và thử lại; nếu vẫn lỗi, hãy quét mã QR trên thẻ hoặc nhập tay, "
        "và báo quản trị viên",
        "Place the card again and retry; if it still fails, scan the QR code on the card "
        "or use manual entry, and tell the administrator",
        "error",
    ),
    "kiosk.app.errors.AppError": _m(
        "app",
        "Ki-ốt chưa làm được việc này",
        "The kiosk could not do this",
        "Thử lại; nếu vẫn lỗi, hãy báo quản trị viên",
        "Try again; if it keeps happening, tell the administrator",
        "error",
    ),
    "kiosk.app.pin.PinFormatError": _m(
        "operator_pin",
        "Mã PIN quản trị chưa dùng được",
        "The operator PIN cannot be used",
        "Đặt lại mã PIN bằng lệnh cccd-kiosk set-pin (ít nhất 6 chữ số)",
        "Set the PIN again with cccd-kiosk set-pin (at least 6 digits)",
        "error",
    ),
    "kiosk.app.errors.UsageError": _m(
        "usage",
        "Lệnh hoặc thông tin nhập chưa dùng được",
        "The command or its input cannot be used",
        "Kiểm tra lại thông tin đã nhập",
        "Check what was entered",
        "error",
    ),
    # ---- ICAO 9303 stack (kiosk.emrtd) ----
    "kiosk.emrtd.errors.EmrtdError": _m(
        "chip",
        "Không đọc được thẻ",
        "The card could not be read",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.TLVError": _m(
        "chip_tlv",
        "Dữ liệu trên chip bị lỗi",
        "The data on the chip is damaged",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.LDSParseError": _m(
        "chip_lds",
        "Dữ liệu trên chip không đúng định dạng",
        "The data on the chip is malformed",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.FileTooLarge": _m(
        "chip_file_too_large",
        "Chip có tệp dữ liệu lớn bất thường",
        "The chip holds an unexpectedly large file",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.SecureMessagingError": _m(
        "chip_secure_messaging",
        "Kết nối bảo mật với chip bị lỗi",
        "The secure connection to the chip failed",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.APDUError": _m(
        "chip_apdu",
        "Chip trả lời không đúng định dạng",
        "The chip sent a malformed reply",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.StatusError": _m(
        "chip_status",
        "Chip từ chối một lệnh đọc",
        "The chip refused a read command",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.errors.AuthenticationError": _m(
        "chip_authentication",
        "Không mở được kết nối an toàn với chip",
        "Could not open a secure session with the chip",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.ec.InvalidPoint": _m(
        "chip_invalid_point",
        "Chip gửi khóa không hợp lệ",
        "The chip sent an invalid key",
        _RETRY_CHIP_VI,
        _RETRY_CHIP_EN,
        "error",
    ),
    "kiosk.emrtd.iso9796.ISO9796Error": _m(
        "chip_signature",
        "Chữ ký chống sao chép của chip không hợp lệ",
        "The chip's anti-cloning signature is invalid",
        "Báo nhân viên kiểm tra thẻ; có thể check-in tại quầy",
        "Ask staff to check the card; you can check in at reception",
        "error",
    ),
    "kiosk.emrtd.errors.AccessDenied": _m(
        "access_denied",
        "Mã truy cập thẻ không đúng",
        "Wrong card access number",
        "Kiểm tra 6 số cuối của số CCCD",
        "Check the last 6 digits of the ID number",
        "error",
    ),
    "kiosk.emrtd.errors.UnsupportedProtocol": _m(
        "unsupported_protocol",
        "Thẻ không hỗ trợ cách đọc này",
        "The card does not support this way of reading",
        "Nhập số CCCD và ngày sinh, hoặc quét mã QR trên thẻ",
        "Enter the ID number and date of birth, or scan the QR code on the card",
        "error",
    ),
    # AccessKeyError, MRZError and BhytQRError name the field: see _field_message.
    "kiosk.emrtd.errors.AccessKeyError": _m(
        "access_key",
        "Thông tin nhập chưa đúng",
        "The entry is not valid",
        "Kiểm tra lại thông tin đã nhập",
        "Check what was entered",
        "error",
    ),
    "kiosk.emrtd.errors.MRZError": _m(
        "mrz",
        "Dòng MRZ chưa đúng",
        "The MRZ is not valid",
        "Kiểm tra lại 3 dòng MRZ ở mặt sau thẻ",
        "Check the 3 MRZ lines on the back of the card",
        "error",
    ),
    "kiosk.cccd.bhyt_qr.BhytQRError": _m(
        "bhyt_qr",
        "Không đọc được mã QR thẻ BHYT",
        "The BHYT card QR code cannot be used",
        "Quét lại mã QR trên thẻ BHYT hoặc ứng dụng VssID; nếu vẫn lỗi, hãy đến quầy",
        "Scan the QR code on the BHYT card or in VssID again; if it still fails, go to reception",
        "error",
    ),
    # ---- passive authentication and the trust store ----
    "kiosk.emrtd.certs.PassiveAuthError": _m(
        "passive_auth",
        "Không kiểm tra được chữ ký số của thẻ",
        "The card's digital signature could not be checked",
        "Báo nhân viên; có thể check-in bằng mã QR hoặc tại quầy",
        "Tell staff; you can check in with the QR code or at reception",
        "error",
    ),
    "kiosk.emrtd.certs.SignatureAlgorithmError": _m(
        "signature_algorithm",
        "Thẻ dùng thuật toán chữ ký không được hỗ trợ",
        "The card uses an unsupported signature algorithm",
        "Báo nhân viên; có thể check-in bằng mã QR hoặc tại quầy",
        "Tell staff; you can check in with the QR code or at reception",
        "error",
    ),
    "kiosk.emrtd.certs.PublicKeyError": _m(
        "public_key",
        "Khóa công khai không dùng được",
        "A public key cannot be used",
        "Báo nhân viên; có thể check-in bằng mã QR hoặc tại quầy",
        "Tell staff; you can check in with the QR code or at reception",
        "error",
    ),
    "kiosk.emrtd.certs.CertificateError": _m(
        "certificate",
        "Chứng thư số không đọc được",
        "A certificate cannot be read",
        _ADMIN_VI + " kiểm tra kho chứng thư tin cậy",
        _ADMIN_EN + " to check the trust store",
        "error",
    ),
    "kiosk.emrtd.trust.TrustStoreError": _m(
        "trust_store",
        "Kho chứng thư tin cậy không dùng được",
        "The trust store cannot be used",
        _ADMIN_VI + " kiểm tra kho chứng thư tin cậy",
        _ADMIN_EN + " to check the trust store",
        "error",
    ),
    "kiosk.emrtd.trust.CRLError": _m(
        "crl",
        "Danh sách thu hồi chứng thư không đọc được",
        "A certificate revocation list cannot be read",
        _ADMIN_VI + " cập nhật danh sách thu hồi (CRL)",
        _ADMIN_EN + " to update the revocation list (CRL)",
        "error",
    ),
    "kiosk.emrtd.masterlist.MasterListError": _m(
        "master_list",
        "Danh sách chứng thư gốc không đọc được",
        "The master list cannot be read",
        _ADMIN_VI + " cập nhật danh sách chứng thư gốc",
        _ADMIN_EN + " to update the master list",
        "error",
    ),
    # ---- eligibility (kiosk.eligibility.errors) ----
    "kiosk.eligibility.errors.EligibilityError": _m(
        "eligibility",
        "Chưa kiểm tra được thẻ BHYT",
        "Health insurance could not be checked",
        "Hỏi nhân viên tại quầy",
        "Ask staff at reception",
        "warning",
    ),
    "kiosk.eligibility.errors.GatewayUnavailable": _m(
        "gateway_unavailable",
        "Không kết nối được cổng BHXH",
        "The BHXH gateway is not reachable",
        "Tiếp tục bằng dữ liệu đã lưu; nhân viên sẽ kiểm tra lại nếu cần",
        "Continuing from saved data; staff will re-check if needed",
        "warning",
    ),
    "kiosk.eligibility.errors.GatewayDeadlineExceeded": _m(
        "gateway_deadline",
        "Cổng BHXH trả lời quá chậm",
        "The BHXH gateway answered too slowly",
        "Tiếp tục bằng dữ liệu đã lưu; nhân viên sẽ kiểm tra lại nếu cần",
        "Continuing from saved data; staff will re-check if needed",
        "warning",
    ),
    "kiosk.eligibility.errors.GatewayAnswerTooLarge": _m(
        "gateway_too_large",
        "Cổng BHXH trả lời quá dài",
        "The BHXH gateway sent an oversized answer",
        "Hỏi nhân viên về thẻ BHYT; báo quản trị viên kiểm tra địa chỉ cổng",
        "Ask staff about the BHYT card; tell the administrator to check the gateway address",
        "warning",
    ),
    "kiosk.eligibility.errors.GatewayTlsError": _m(
        "gateway_tls",
        "Chứng chỉ của cổng BHXH không được tin cậy",
        "The BHXH gateway's certificate is not trusted",
        _ADMIN_VI + " kiểm tra chứng chỉ và địa chỉ cổng; hỏi nhân viên về thẻ BHYT",
        _ADMIN_EN + " to check the gateway certificate and address; ask staff about the BHYT card",
        "error",
    ),
    "kiosk.eligibility.errors.GatewayAuthError": _m(
        "gateway_auth",
        "Cổng BHXH từ chối tài khoản của máy",
        "The BHXH gateway rejected this kiosk's account",
        _ADMIN_VI + " kiểm tra tài khoản cổng BHXH; hỏi nhân viên về thẻ BHYT",
        _ADMIN_EN + " to check the BHXH account; ask staff about the BHYT card",
        "error",
    ),
    "kiosk.eligibility.errors.GatewayProtocolError": _m(
        "gateway_protocol",
        "Cổng BHXH trả lời không đúng định dạng",
        "The BHXH gateway sent an unexpected answer",
        "Hỏi nhân viên về thẻ BHYT; báo quản trị viên",
        "Ask staff about the BHYT card; tell the administrator",
        "warning",
    ),
    "kiosk.eligibility.errors.ConfigurationError": _m(
        "gateway_config",
        "Chưa cấu hình cổng BHXH",
        "The BHXH gateway is not set up",
        _ADMIN_VI + "; hỏi nhân viên về thẻ BHYT",
        _ADMIN_EN + "; ask staff about the BHYT card",
        "error",
    ),
    # ---- configuration (kiosk.config) ----
    "kiosk.config.ConfigError": _m(
        "config",
        "Cấu hình máy không dùng được",
        "The kiosk configuration cannot be used",
        _ADMIN_VI,
        _ADMIN_EN,
        "error",
    ),
    "kiosk.config.ConfigSyntaxError": _m(
        "config_syntax",
        "Tệp cấu hình bị lỗi cú pháp",
        "The configuration file has a syntax error",
        _ADMIN_VI,
        _ADMIN_EN,
        "error",
    ),
    "kiosk.config.UnknownConfigKey": _m(
        "config_unknown_key",
        "Tệp cấu hình có mục không rõ",
        "The configuration file has an unknown setting",
        _ADMIN_VI,
        _ADMIN_EN,
        "error",
    ),
    "kiosk.config.ConfigValueError": _m(
        "config_value",
        "Tệp cấu hình có giá trị không hợp lệ",
        "The configuration file has an invalid value",
        _ADMIN_VI,
        _ADMIN_EN,
        "error",
    ),
    "kiosk.config.ReaderSpecSyntaxError": _m(
        "config_reader",
        "Tên đầu đọc trong cấu hình không hợp lệ",
        "The reader name in the configuration is not valid",
        _ADMIN_VI,
        _ADMIN_EN,
        "error",
    ),
    # ---- the ticket printer (drivers.printer) ----
    "drivers.printer.PrinterError": _m(
        "printer",
        "Chưa in được phiếu",
        "The ticket could not be printed",
        _DESK_VI + "; báo nhân viên kiểm tra máy in",
        _DESK_EN + "; tell staff to check the printer",
        "warning",
    ),
    "drivers.printer.PrinterSpecError": _m(
        "printer_spec",
        "Máy in phiếu chưa được cấu hình đúng",
        "The ticket printer is not configured correctly",
        "Báo quản trị viên kiểm tra [printer] url",
        "Tell the administrator to check [printer] url",
        "error",
    ),
    "drivers.printer.PrinterOffline": _m(
        "printer_offline",
        "Máy in phiếu không trả lời",
        "The ticket printer does not answer",
        _DESK_VI + "; báo nhân viên bật hoặc cắm lại máy in",
        _DESK_EN + "; tell staff to switch the printer on or plug it back in",
        "warning",
    ),
    "drivers.printer.CoverOpen": _m(
        "printer_cover_open",
        "Nắp máy in phiếu đang mở",
        "The ticket printer's cover is open",
        _DESK_VI + "; báo nhân viên đóng nắp máy in",
        _DESK_EN + "; tell staff to close the printer's cover",
        "warning",
    ),
    "drivers.printer.PaperOut": _m(
        "printer_paper_out",
        "Máy in phiếu hết giấy",
        "The ticket printer is out of paper",
        _DESK_VI + "; báo nhân viên nạp giấy",
        _DESK_EN + "; tell staff to load paper",
        "warning",
    ),
    "kiosk.ticket.model.TicketError": _m(
        "ticket",
        "Chưa tạo được phiếu",
        "The ticket could not be made",
        _DESK_VI + "; báo quản trị viên",
        _DESK_EN + "; tell the administrator",
        "warning",
    ),
    # ---- files (dumps, exports, the data folder) ----
    "builtins.OSError": _m(
        "file_io",
        "Không đọc hoặc ghi được tệp",
        "Cannot write or read a file",
        "Kiểm tra thư mục, quyền truy cập và dung lượng đĩa",
        "Check the folder, its permissions and the free disk space",
        "error",
    ),
    # ---- offline storage (offline_cache.crypto) ----
    "offline_cache.crypto.StorageError": _m(
        "storage",
        "Lỗi lưu trữ dữ liệu",
        "Storage problem",
        _ADMIN_STORAGE_VI,
        _ADMIN_STORAGE_EN,
        "error",
    ),
    "offline_cache.crypto.StorageKeyError": _m(
        "storage_key",
        "Không mở được khóa lưu trữ",
        "The storage key cannot be opened",
        _ADMIN_STORAGE_VI,
        _ADMIN_STORAGE_EN,
        "error",
    ),
    "offline_cache.crypto.StorageKeyMissing": _m(
        "storage_key_missing",
        "Thiếu khóa lưu trữ của thư mục dữ liệu này",
        "The storage key for this data folder is missing",
        "Báo quản trị viên khôi phục tệp khóa (storage.key) từ bản sao lưu; không tạo khóa mới",
        "Tell the administrator to restore the key file (storage.key) from backup; "
        "do not make a new one",
        "error",
    ),
    "offline_cache.crypto.WrongStorageKey": _m(
        "storage_key_wrong",
        "Khóa lưu trữ không khớp với dữ liệu đã lưu",
        "The storage key does not match the saved data",
        "Báo quản trị viên dùng đúng khóa đã lưu dữ liệu này; chưa có gì bị thay đổi",
        "Tell the administrator to use the key this data was saved with; nothing was changed",
        "error",
    ),
    "offline_cache.crypto.UnsafeKeyFile": _m(
        "storage_key_unsafe",
        "Tệp khóa lưu trữ không an toàn",
        "The storage key file is not safe",
        "Báo quản trị viên: tệp khóa phải thuộc tài khoản của máy và chỉ tài khoản đó đọc được",
        "Tell the administrator: the key file must belong to the kiosk's user, readable by it only",
        "error",
    ),
    "offline_cache.crypto.UnsafeDataFolder": _m(
        "storage_folder_unsafe",
        "Thư mục dữ liệu không an toàn",
        "The data folder is not safe",
        "Báo quản trị viên: thư mục phải thuộc tài khoản của máy, người khác không ghi được",
        "Tell the administrator: the folder must belong to the kiosk's user, "
        "not writable by others",
        "error",
    ),
    "offline_cache.crypto.StorageBusy": _m(
        "storage_busy",
        "Dữ liệu đang bị chương trình khác giữ",
        "The saved data is held by another program",
        "Đóng chương trình kia (tiến trình máy khác, sao lưu, trình xem cơ sở dữ liệu) rồi thử "
        "lại; nếu vẫn lỗi, báo quản trị viên",
        "Close the other program (another kiosk process, a backup, a database viewer) and try "
        "again; if it persists, tell the administrator",
        "error",
    ),
    "offline_cache.crypto.StorageFull": _m(
        "storage_full",
        "Đĩa đã đầy, không lưu được",
        "The disk is full; nothing could be saved",
        "Báo quản trị viên giải phóng dung lượng trong thư mục dữ liệu rồi thử lại",
        "Tell the administrator to free space in the data folder, then try again",
        "error",
    ),
    "offline_cache.crypto.StorageDamaged": _m(
        "storage_damaged",
        "Tệp dữ liệu bị hỏng",
        "A data file is damaged",
        "Báo quản trị viên khôi phục tệp nhật ký (journal.db) từ bản sao lưu",
        "Tell the administrator to restore the journal (journal.db) from a backup",
        "error",
    ),
    "offline_cache.crypto.StorageUnreachable": _m(
        "storage_unreachable",
        "Không kết nối được máy chủ dữ liệu của bệnh viện",
        "The hospital's database server cannot be reached",
        "Mời đến quầy tiếp đón; báo quản trị viên kiểm tra mạng và máy chủ PostgreSQL",
        "Please go to the reception desk; tell the administrator to check the network and "
        "the PostgreSQL server",
        "error",
    ),
    "offline_cache.crypto.StorageRefused": _m(
        "storage_refused",
        "Máy chủ dữ liệu từ chối tài khoản của kiosk",
        "The database server refused the kiosk's account",
        "Báo quản trị viên kiểm tra tài khoản, mật khẩu hoặc chứng chỉ và quyền của kiosk",
        "Tell the administrator to check the kiosk's database role, password or certificate "
        "and its grants",
        "error",
    ),
    "offline_cache.crypto.SchemaTooNew": _m(
        "storage_schema_new",
        "Cơ sở dữ liệu mới hơn phần mềm của kiosk",
        "The database is newer than this kiosk's software",
        "Báo quản trị viên cập nhật phần mềm kiosk lên phiên bản mới",
        "Tell the administrator to update the kiosk software to the current version",
        "error",
    ),
    "offline_cache.crypto.SchemaOutdated": _m(
        "storage_schema_old",
        "Cơ sở dữ liệu chưa được nâng cấp",
        "The database has not been upgraded yet",
        "Báo quản trị viên chạy lệnh: cccd-kiosk db upgrade",
        "Tell the administrator to run: cccd-kiosk db upgrade",
        "error",
    ),
    "offline_cache.crypto.SealError": _m(
        "storage_seal",
        "Dữ liệu đã lưu không mở được",
        "Saved data cannot be opened",
        _ADMIN_STORAGE_VI,
        _ADMIN_STORAGE_EN,
        "error",
    ),
    # ---- the hand-off to the hospital system (offline_cache.his_errors) ----
    "offline_cache.his_errors.HisDeliveryError": _m(
        "his_delivery",
        "Chưa gửi được lượt đăng ký sang hệ thống bệnh viện",
        "The check-in could not be sent to the hospital system yet",
        "Lượt đăng ký đã được lưu và sẽ được gửi lại; báo quản trị viên nếu lỗi kéo dài",
        "The check-in is saved and will be sent again; tell the administrator if this persists",
        "warning",
    ),
    "offline_cache.his_errors.HisDeadlineExceeded": _m(
        "his_deadline",
        "Hệ thống bệnh viện trả lời quá chậm",
        "The hospital system answered too slowly",
        "Lượt đăng ký đã được lưu và sẽ được gửi lại; báo quản trị viên nếu lỗi kéo dài",
        "The check-in is saved and will be sent again; tell the administrator if this persists",
        "warning",
    ),
    "offline_cache.his_errors.HisAnswerTooLarge": _m(
        "his_too_large",
        "Hệ thống bệnh viện trả lời quá dài",
        "The hospital system sent an oversized answer",
        "Lượt đăng ký đã được lưu và sẽ được gửi lại; báo quản trị viên kiểm tra địa chỉ HIS",
        "The check-in is saved and will be sent again; tell the administrator to check the HIS "
        "address",
        "warning",
    ),
    "offline_cache.his_errors.HisUrlRefused": _m(
        "his_insecure",
        "Địa chỉ hệ thống bệnh viện không được mã hóa",
        "The hospital system address is not encrypted",
        _ADMIN_VI + " đặt địa chỉ HIS bằng https",
        _ADMIN_EN + " to set an https HIS address",
        "error",
    ),
    "offline_cache.his_errors.HisTlsError": _m(
        "his_tls",
        "Chứng chỉ của hệ thống bệnh viện không được tin cậy",
        "The hospital system's certificate is not trusted",
        _ADMIN_VI + " kiểm tra chứng chỉ và địa chỉ HIS; lượt đăng ký đã được lưu",
        _ADMIN_EN + " to check the HIS certificate and address; the check-in is saved",
        "error",
    ),
    "offline_cache.his_errors.HisAuthRefused": _m(
        "his_auth",
        "Hệ thống bệnh viện từ chối khóa truy cập của máy",
        "The hospital system refused this kiosk's token",
        _ADMIN_VI + " kiểm tra khóa truy cập HIS; lượt đăng ký đã được lưu",
        _ADMIN_EN + " to check the HIS token; the check-in is saved",
        "error",
    ),
    "offline_cache.his_errors.HisAnswerUndecodable": _m(
        "his_undecodable",
        "Hệ thống bệnh viện trả lời không đọc được",
        "The hospital system's answer cannot be decoded",
        "Lượt đăng ký đã được lưu và sẽ được gửi lại; báo quản trị viên kiểm tra địa chỉ HIS",
        "The check-in is saved and will be sent again; tell the administrator to check the HIS "
        "address",
        "warning",
    ),
    # ---- the simulators (tester panel, development) ----
    "simulators.card.profile.SimulatorError": _m(
        "simulator",
        "Lỗi thẻ mô phỏng",
        "Card simulator problem",
        _TESTER_VI,
        _TESTER_EN,
        "error",
    ),
    "simulators.card.profile.ProfileError": _m(
        "simulator_profile",
        "Thẻ mẫu bị lỗi",
        "The sample card is broken",
        _TESTER_VI,
        _TESTER_EN,
        "error",
    ),
    "simulators.card.profile.UnknownProfile": _m(
        "simulator_unknown_card",
        "Không có thẻ mẫu tên này",
        "No sample card by that name",
        "Chọn một thẻ mẫu trong danh sách",
        "Choose a sample card from the list",
        "error",
    ),
    "simulators.card.pki.PKIError": _m(
        "simulator_pki",
        "Không tạo được chứng thư thử nghiệm",
        "The test certificates could not be made",
        _TESTER_VI,
        _TESTER_EN,
        "error",
    ),
    "simulators.card.faults.FaultError": _m(
        "simulator_fault",
        "Lỗi giả lập không hợp lệ",
        "The simulated fault is not valid",
        "Chọn lỗi giả lập khác",
        "Choose another simulated fault",
        "error",
    ),
    "simulators.card.personalize.PersonalizationError": _m(
        "simulator_personalize",
        "Không tạo được thẻ mẫu",
        "The sample card could not be made",
        _TESTER_VI,
        _TESTER_EN,
        "error",
    ),
    "simulators.vpcd.VpcdError": _m(
        "simulator_vpcd",
        "Không nối được thẻ mô phỏng vào pcscd",
        "The simulated card could not be connected to pcscd",
        "Kiểm tra pcscd và vsmartcard-vpcd; báo người kiểm thử",
        "Check pcscd and vsmartcard-vpcd; tell the tester",
        "error",
    ),
    "simulators.gateway.data.DataError": _m(
        "simulator_gateway_data",
        "Dữ liệu mẫu của cổng BHXH mô phỏng bị lỗi",
        "The simulated BHXH gateway's sample data is broken",
        _TESTER_VI,
        _TESTER_EN,
        "error",
    ),
    "simulators.gateway.fhir.FhirError": _m(
        "simulator_fhir",
        "Yêu cầu FHIR không hợp lệ",
        "The FHIR request is not valid",
        _TESTER_VI,
        _TESTER_EN,
        "error",
    ),
    # ---- the voice of the calling display (kiosk.voice) ----
    "kiosk.voice.VoiceError": _m(
        "voice",
        "Không phát được lời gọi số",
        "The call could not be spoken",
        "Màn hình vẫn hiện số; báo quản trị viên kiểm tra espeak-ng",
        "The display still shows the number; tell the administrator to check espeak-ng",
        "warning",
    ),
    "kiosk.voice.VoiceUnavailable": _m(
        "voice_missing",
        "Máy chưa cài giọng đọc tiếng Việt",
        "No Vietnamese voice is installed",
        "Màn hình vẫn hiện số, không có tiếng; báo quản trị viên cài gói espeak-ng",
        "The display shows the numbers without sound; tell the administrator to install "
        "the espeak-ng package",
        "warning",
    ),
    "kiosk.voice.VoiceFailed": _m(
        "voice_failed",
        "Giọng đọc không tạo được âm thanh",
        "The voice gave no sound",
        "Màn hình vẫn hiện số; báo quản trị viên kiểm tra espeak-ng và loa",
        "The display still shows the number; tell the administrator to check espeak-ng "
        "and the speakers",
        "warning",
    ),
}

#: Access-key ``field`` values → (Vietnamese, English) names people recognise. A field not
#: listed is called "the entered information": the raw field name is never shown.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "can": ("6 số cuối của số CCCD", "last 6 digits of the ID number"),
    "id_number": ("số CCCD (12 số)", "12-digit ID number"),
    "old_id_number": ("số CMND cũ", "old ID card number"),
    "document_number": ("số thẻ", "document number"),
    "document_code": ("mã loại giấy tờ", "document code"),
    "issuing_state": ("quốc gia cấp", "issuing country"),
    "nationality": ("quốc tịch", "nationality"),
    "personal_number": ("số định danh cá nhân", "personal number"),
    "optional_data": ("dữ liệu bổ sung trong MRZ", "MRZ optional data"),
    "composite": ("số kiểm tra cuối dòng MRZ", "MRZ final check digit"),
    "date_of_birth": ("ngày sinh", "date of birth"),
    "date_of_expiry": ("ngày hết hạn", "expiry date"),
    "date_of_issue": ("ngày cấp", "date of issue"),
    "full_name": ("họ và tên", "full name"),
    "name": ("họ và tên", "full name"),
    "surname": ("họ", "surname"),
    "given_names": ("tên", "given names"),
    "sex": ("giới tính", "sex"),
    "address": ("địa chỉ", "address"),
    "qr": ("mã QR", "QR code"),
    "mrz": ("dòng MRZ", "MRZ"),
    "line1": ("dòng MRZ thứ nhất", "first MRZ line"),
    "line2": ("dòng MRZ thứ hai", "second MRZ line"),
    "line3": ("dòng MRZ thứ ba", "third MRZ line"),
    "password": ("mã truy cập thẻ", "card access key"),
    "password_ref": ("mã truy cập thẻ", "card access key"),
    "card_number": ("mã thẻ BHYT", "BHYT card number"),
    "registered_clinic": ("nơi đăng ký khám chữa bệnh", "registered clinic"),
    "valid_from": ("ngày bắt đầu hiệu lực", "valid-from date"),
    "valid_to": ("ngày hết hiệu lực", "valid-to date"),
}
_ANY_FIELD = ("thông tin đã nhập", "the entered information")

#: Classes whose message names the offending ``field``.
_FIELD_CLASSES = frozenset(
    {
        "kiosk.emrtd.errors.AccessKeyError",
        "kiosk.emrtd.errors.MRZError",
        "kiosk.cccd.bhyt_qr.BhytQRError",
    }
)


def _class_key(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _field_message(base: UserMessage, field: object) -> UserMessage:
    """``base`` with the title and action naming ``field`` (when it is a known field)."""
    if not isinstance(field, str) or field not in FIELD_LABELS:
        return base
    vi, en = FIELD_LABELS[field]
    if base.key == "bhyt_qr":
        title_vi, title_en = f"{base.title_vi}: sai {vi}", f"{base.title_en}: wrong {en}"
        return UserMessage(
            title_vi, title_en, base.action_vi, base.action_en, base.severity, base.key
        )
    return UserMessage(
        f"{base.title_vi}: {vi}",
        f"{base.title_en}: {en}",
        f"Kiểm tra lại {vi} rồi nhập lại",
        f"Check the {en} and enter it again",
        base.severity,
        base.key,
    )


def message_for(exc: BaseException) -> UserMessage:
    """The message for ``exc``: its class's (or nearest ancestor's), else :data:`GENERIC`.

    Access-key errors (including MRZ and BHYT QR errors) name the field to fix. The
    exception's text and arguments are never used.
    """
    for cls in type(exc).__mro__:
        key = _class_key(cls)
        found = MESSAGES.get(key)
        if found is None:
            continue
        if key in _FIELD_CLASSES:
            return _field_message(found, getattr(exc, "field", None))
        return found
    return GENERIC


def is_generic(message: UserMessage) -> bool:
    """Whether ``message`` is the catch-all (no specific advice was found)."""
    return message.key == GENERIC.key


def field_name(field: str | None, language: str = "vi") -> str:
    """How ``field`` (an access-key error's ``field``) is called on screen in ``language``."""
    vi, en = FIELD_LABELS.get(field or "", _ANY_FIELD)
    return en if language == "en" else vi


def operator_detail(exc: BaseException) -> str | None:
    """The exception's own text when its class is one whose text is written for the operator
    (see :data:`_DETAIL_CLASSES`: flags, keys, paths, never personal data), else None. For
    an ``OSError``: the system's reason and the file name."""
    if isinstance(exc, OSError) and exc.strerror:
        return f"{exc.filename}: {exc.strerror}" if exc.filename else exc.strerror
    for cls in type(exc).__mro__:
        if _class_key(cls) in _DETAIL_CLASSES:
            text = " ".join(str(exc).split())
            return text[:300] or None
    return None


def cli_line(exc: BaseException) -> str:
    """The one line ``cccd-kiosk`` prints on stderr for ``exc``: the English title (with the
    operator detail when there is one), then what to do next in English and Vietnamese."""
    msg = message_for(exc)
    if is_generic(msg):
        head = f"internal error ({type(exc).__name__}); please report it"
    else:
        detail = operator_detail(exc)
        head = f"{msg.title_en}: {detail}" if detail else msg.title_en
    return f"{head} — {msg.action_en} / {msg.action_vi}"
