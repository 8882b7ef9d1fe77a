"""What each BHXH ``maKetQua`` means for the receptionist.

One entry per code in the gateway's result table (../shared/reference/CCCD.md): the status the
kiosk shows and one sentence in Vietnamese and English saying what staff should do next. The
gateway's own ``ghiChu`` is kept next to it in the result; this table is what the kiosk *does*.

Decisions on the ambiguous codes (documented here because the gateway's table only says what
the code means, not what a clinic should do):

- 001/002 (card managed by the Ministry of Defence / Public Security BHXH): ``eligible`` — the
  gateway confirms the card exists and is in force, it only cannot show the details — but the
  advice asks staff to check the patient's ID papers before treating under that card.
- 003 (the old card expired, a new card exists): ``not_eligible`` for the card asked about;
  staff are told to ask for the new card. 004 (still valid, a new card was issued): ``eligible``
  with advice to use the new card number (``maTheMoi``) in the hospital system.
- 050 (no card information): ``not_eligible``. The gateway *did* answer and found no card for
  this ID; "unknown" would tell staff to wait for the network, which would not help. The advice
  asks staff to check the paper/VssID card, because some insured people are not yet linked to
  their CCCD number.
- 051–053 (the card code is wrong): ``unknown`` — the data asked about is wrong, not the
  insurance; staff should check the card number.
- 054/055 (the *staff* CCCD/name in the kiosk's configuration is wrong): ``unknown`` with advice
  for the administrator; the patient is not at fault and must not be turned away.
- 060/061/070/080/090 (name, birth date, sex or clinic mismatch): ``unknown`` — usually a
  spelling or data-entry difference; staff compare with the ID card.
- 100/101/500 (gateway errors) and 205 (parameter format): ``unknown``, ask staff / retry.
- 110 (revoked): ``not_eligible``. 120–124 (card reported reduced): ``not_eligible``.
- 130 (child without a card): ``unknown`` — children under 6 are covered by their birth
  certificate/CCCD; staff check the papers.
- 401 (authentication): ``unknown`` with advice for the administrator (the client raises
  ``GatewayAuthError`` before this code reaches a result when renewal fails).
- Any code not in the table: ``unknown`` with the code shown, so staff can report it.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.eligibility.base import EligibilityStatus


@dataclass(frozen=True)
class CodeMeaning:
    """What one ``maKetQua`` means: the status shown and what staff should do next."""

    status: EligibilityStatus
    advice_vi: str
    advice_en: str


_CHECK_NAME_VI = "Thông tin không khớp: đối chiếu họ tên, ngày sinh với căn cước rồi kiểm tra lại."
_CHECK_NAME_EN = "Details do not match: check the name and birth date against the ID card."
_SERVER_VI = "Cổng BHXH đang lỗi: thử lại sau ít phút hoặc hỏi nhân viên."
_SERVER_EN = "The BHXH gateway reported an error: retry in a few minutes or ask staff."
_ADMIN_VI = (
    "Lỗi cấu hình tài khoản tra cứu của máy: báo quản trị viên; tiếp đón bệnh nhân thủ công."
)
_ADMIN_EN = (
    "The kiosk's gateway account is misconfigured: tell the administrator; check the patient in "
    "by hand."
)
_REDUCED_VI = "Thẻ đã báo giảm: bệnh nhân không dùng được thẻ này; hướng dẫn liên hệ BHXH."
_REDUCED_EN = "The card was reported reduced: it cannot be used; refer the patient to BHXH."

CODES: dict[str, CodeMeaning] = {
    "000": CodeMeaning("eligible", "Thẻ hợp lệ.", "Card valid."),
    "001": CodeMeaning(
        "eligible",
        "Thẻ do BHXH Bộ Quốc phòng quản lý: kiểm tra giấy tờ tùy thân trước khi tiếp đón.",
        "Card managed by the Ministry of Defence BHXH: check the ID papers before check-in.",
    ),
    "002": CodeMeaning(
        "eligible",
        "Thẻ do BHXH Bộ Công an quản lý: kiểm tra giấy tờ tùy thân trước khi tiếp đón.",
        "Card managed by the Ministry of Public Security BHXH: check the ID papers before "
        "check-in.",
    ),
    "003": CodeMeaning(
        "not_eligible",
        "Thẻ cũ đã hết giá trị, đã có thẻ mới: đề nghị bệnh nhân xuất trình thẻ mới.",
        "The old card has expired and a new card exists: ask for the new card.",
    ),
    "004": CodeMeaning(
        "eligible",
        "Thẻ cũ còn giá trị nhưng đã cấp thẻ mới: dùng mã thẻ mới.",
        "The old card is still valid but a new card was issued: use the new card number.",
    ),
    "010": CodeMeaning(
        "not_eligible",
        "Thẻ hết hạn: bệnh nhân khám dịch vụ hoặc gia hạn thẻ.",
        "Card expired: the patient pays as a private patient or renews the card.",
    ),
    "050": CodeMeaning(
        "not_eligible",
        "Không có thông tin thẻ: kiểm tra thẻ BHYT giấy hoặc VssID của bệnh nhân.",
        "No card information for this ID: check the patient's paper or VssID BHYT card.",
    ),
    "051": CodeMeaning(
        "unknown",
        "Mã thẻ sai: kiểm tra lại mã thẻ BHYT.",
        "Wrong card code: check the BHYT card number.",
    ),
    "052": CodeMeaning(
        "unknown",
        "Mã tỉnh trên thẻ sai: kiểm tra lại mã thẻ BHYT.",
        "Wrong province in the card code: check the BHYT card number.",
    ),
    "053": CodeMeaning(
        "unknown",
        "Mã quyền lợi trên thẻ sai: kiểm tra lại mã thẻ BHYT.",
        "Wrong benefit code in the card code: check the BHYT card number.",
    ),
    "054": CodeMeaning(
        "unknown",
        "CCCD cán bộ tra cứu chưa đăng ký với cơ sở: " + _ADMIN_VI,
        "The staff CCCD is not registered for this clinic. " + _ADMIN_EN,
    ),
    "055": CodeMeaning(
        "unknown",
        "Họ tên cán bộ tra cứu không khớp CCCD: " + _ADMIN_VI,
        "The staff name does not match the staff CCCD. " + _ADMIN_EN,
    ),
    "060": CodeMeaning("unknown", "Sai họ tên. " + _CHECK_NAME_VI, "Wrong name. " + _CHECK_NAME_EN),
    "061": CodeMeaning(
        "unknown",
        "Sai họ tên (đúng ký tự đầu). " + _CHECK_NAME_VI,
        "Wrong name (first letter right). " + _CHECK_NAME_EN,
    ),
    "070": CodeMeaning(
        "unknown", "Sai ngày sinh. " + _CHECK_NAME_VI, "Wrong birth date. " + _CHECK_NAME_EN
    ),
    "080": CodeMeaning(
        "unknown", "Sai giới tính. " + _CHECK_NAME_VI, "Wrong sex. " + _CHECK_NAME_EN
    ),
    "090": CodeMeaning(
        "unknown",
        "Sai nơi đăng ký khám chữa bệnh ban đầu: kiểm tra thẻ BHYT.",
        "Wrong registered clinic: check the BHYT card.",
    ),
    "100": CodeMeaning(
        "unknown", "Lỗi dữ liệu thẻ. " + _SERVER_VI, "Card data error. " + _SERVER_EN
    ),
    "101": CodeMeaning("unknown", "Lỗi máy chủ. " + _SERVER_VI, "Server error. " + _SERVER_EN),
    "110": CodeMeaning(
        "not_eligible",
        "Thẻ đã bị thu hồi: bệnh nhân không dùng được thẻ này.",
        "Card revoked: it cannot be used.",
    ),
    "120": CodeMeaning("not_eligible", _REDUCED_VI, _REDUCED_EN),
    "121": CodeMeaning("not_eligible", _REDUCED_VI, _REDUCED_EN),
    "122": CodeMeaning("not_eligible", _REDUCED_VI, _REDUCED_EN),
    "123": CodeMeaning("not_eligible", _REDUCED_VI, _REDUCED_EN),
    "124": CodeMeaning("not_eligible", _REDUCED_VI, _REDUCED_EN),
    "130": CodeMeaning(
        "unknown",
        "Trẻ em chưa có thẻ: kiểm tra giấy khai sinh/căn cước của trẻ.",
        "Child without a card: check the child's birth certificate or ID.",
    ),
    "205": CodeMeaning(
        "unknown",
        "Lỗi định dạng tham số: kiểm tra họ tên, ngày sinh; báo quản trị viên nếu lặp lại.",
        "Parameter format error: check the name and birth date; tell the administrator if it "
        "repeats.",
    ),
    "401": CodeMeaning(
        "unknown",
        "Lỗi xác thực với cổng BHXH: " + _ADMIN_VI,
        "Authentication with the BHXH gateway failed. " + _ADMIN_EN,
    ),
    "500": CodeMeaning("unknown", "Lỗi máy chủ. " + _SERVER_VI, "Server error. " + _SERVER_EN),
}


def meaning(code: str) -> CodeMeaning:
    """The meaning of ``code``; an unknown code is ``unknown`` with the code shown to staff."""
    known = CODES.get(code)
    if known is not None:
        return known
    return CodeMeaning(
        "unknown",
        f"Mã kết quả lạ từ cổng BHXH ({code}): hỏi nhân viên, báo quản trị viên.",
        f"Unrecognised gateway result code ({code}): ask staff and tell the administrator.",
    )
