"""The kiosk's UI strings in Vietnamese (default) and English.

:func:`t` looks a key up for a language and fills ``{placeholders}``. Every error string says
what to do next. Keys missing in English fall back to Vietnamese, never to the key itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from kiosk.emrtd.pa import PassiveAuthResult

Lang = Literal["vi", "en"]
LANGS: tuple[Lang, ...] = ("vi", "en")
DEFAULT_LANG: Lang = "vi"

STRINGS: dict[str, dict[Lang, str]] = {
    "app.title": {"vi": "Tiếp đón bệnh nhân", "en": "Patient check-in"},
    "lang.toggle": {"vi": "English", "en": "Tiếng Việt"},
    "idle.title": {"vi": "Xin chào", "en": "Welcome"},
    "idle.body": {
        "vi": "Đặt thẻ căn cước lên đầu đọc, hoặc quét mã QR trên thẻ / thẻ BHYT",
        "en": "Place your citizen ID card on the reader, or scan the QR on the card / BHYT card",
    },
    "key.title": {"vi": "Cần mã truy cập thẻ", "en": "Card access number needed"},
    "key.body": {
        "vi": "Nhập 6 số cuối của số căn cước (hoặc đủ 12 số), hoặc quét mã QR trên thẻ",
        "en": "Type the last 6 digits of the ID number (or all 12), or scan the QR on the card",
    },
    "birth.title": {
        "vi": "Thẻ cần số căn cước và ngày sinh",
        "en": "ID number and birth date needed",
    },
    "birth.body": {
        "vi": "Thẻ loại cũ: nhập số căn cước và ngày sinh để mở thẻ. Giữ thẻ trên đầu đọc",
        "en": "An older card: type the ID number and birth date. Keep the card on the reader",
    },
    "birth.id": {"vi": "Số căn cước (12 số)", "en": "ID number (12 digits)"},
    "birth.dob": {
        "vi": "Ngày sinh (ngày tháng năm, 8 số)",
        "en": "Date of birth (ddmmyyyy, 8 digits)",
    },
    "birth.invalid_id": {
        "vi": "Số căn cước phải đủ 12 chữ số",
        "en": "The ID number must be 12 digits",
    },
    "birth.invalid_dob": {
        "vi": "Ngày sinh chưa đúng — nhập 8 số, ví dụ 21071988",
        "en": "Not a valid date of birth — type 8 digits, e.g. 21071988",
    },
    "birth.refused": {
        "vi": "Thẻ không mở được với số và ngày sinh này — kiểm tra rồi nhập lại",
        "en": "The card did not open with this number and birth date — check them and type again",
    },
    "key.ok": {"vi": "Tiếp tục", "en": "Continue"},
    "key.clear": {"vi": "Xoá", "en": "Clear"},
    "key.cancel": {"vi": "Huỷ", "en": "Cancel"},
    "key.invalid": {
        "vi": "Mã không hợp lệ — nhập 6 hoặc 12 chữ số",
        "en": "Not a valid number — type 6 or 12 digits",
    },
    "reading.title": {"vi": "Đang đọc thẻ — giữ nguyên thẻ", "en": "Reading — keep the card still"},
    # What the patient reads under the one progress bar (ui.progress): no ICAO names.
    # Reception: why a card failed its authenticity checks, and the decision buttons.
    "failure.clone": {
        "vi": "Lý do: thẻ sao chép — chip không chứng minh được khoá gốc (CA/AA). Xem giấy tờ "
        "rồi quyết định",
        "en": "Why: a cloned chip — it cannot prove the original's key (CA/AA). Check the "
        "papers, then decide",
    },
    "failure.revoked": {
        "vi": "Lý do: chứng thư ký của thẻ đã bị thu hồi",
        "en": "Why: the card's signing certificate has been revoked",
    },
    "failure.tampered": {
        "vi": "Lý do: dữ liệu trên chip đã bị sửa (không khớp chữ ký)",
        "en": "Why: the chip's data was altered (it does not match its signature)",
    },
    "failure.forged": {
        "vi": "Lý do: chữ ký dữ liệu không hợp lệ (giả mạo)",
        "en": "Why: the data signature is not valid (forged)",
    },
    "failure.unknown_issuer": {
        "vi": "Lưu ý: chưa cài chứng thư gốc của nơi cấp thẻ",
        "en": "Note: the issuer's root certificate is not installed",
    },
    "decision.accept": {"vi": "Chấp nhận", "en": "Accept"},
    "decision.refuse": {"vi": "Từ chối", "en": "Refuse"},
    "decision.accepted": {"vi": "✔ Nhân viên đã chấp nhận", "en": "✔ Accepted by staff"},
    "decision.refused": {"vi": "✘ Nhân viên đã từ chối", "en": "✘ Refused by staff"},
    "voice.repeat": {"vi": "🔊 Nghe lại", "en": "🔊 Listen again"},
    "voice.volume": {"vi": "Âm lượng {n}%", "en": "Volume {n}%"},
    "nav.large_text": {"vi": "Aa Chữ lớn", "en": "Aa Large text"},
    "nav.normal_text": {"vi": "Aa Chữ thường", "en": "Aa Normal text"},
    "progress.connect": {"vi": "Đang kết nối với thẻ…", "en": "Connecting to your card…"},
    "progress.read": {"vi": "Đang đọc thông tin trên thẻ…", "en": "Reading your details…"},
    "progress.photo": {"vi": "Đang đọc ảnh chân dung…", "en": "Reading your photo…"},
    "progress.check": {"vi": "Đang kiểm tra thẻ thật…", "en": "Checking the card is genuine…"},
    "verifying.title": {
        "vi": "Đang kiểm tra thẻ và BHYT…",
        "en": "Checking the card and health insurance…",
    },
    "result.title": {"vi": "Đã tiếp nhận", "en": "Checked in"},
    "result.done": {"vi": "Xong — lấy thẻ ra", "en": "Done — take your card"},
    "field.name": {"vi": "Họ và tên", "en": "Full name"},
    "field.dob": {"vi": "Ngày sinh", "en": "Date of birth"},
    "field.sex": {"vi": "Giới tính", "en": "Sex"},
    "field.id": {"vi": "Số định danh", "en": "ID number"},
    "field.bhyt": {"vi": "Số thẻ BHYT", "en": "BHYT card"},
    "field.nationality": {"vi": "Quốc tịch", "en": "Nationality"},
    "field.ethnicity": {"vi": "Dân tộc", "en": "Ethnicity"},
    "field.religion": {"vi": "Tôn giáo", "en": "Religion"},
    "field.origin": {"vi": "Quê quán", "en": "Place of origin"},
    "field.residence": {"vi": "Nơi thường trú", "en": "Place of residence"},
    "field.marks": {"vi": "Đặc điểm nhận dạng", "en": "Identifying marks"},
    "field.issued": {"vi": "Ngày cấp", "en": "Date of issue"},
    "field.expiry": {"vi": "Có giá trị đến", "en": "Valid until"},
    "field.father": {"vi": "Họ tên cha", "en": "Father"},
    "field.mother": {"vi": "Họ tên mẹ", "en": "Mother"},
    "field.spouse": {"vi": "Vợ/chồng", "en": "Spouse"},
    "field.old_id": {"vi": "Số CMND cũ", "en": "Old ID number"},
    "field.validity": {"vi": "Hiệu lực", "en": "Valid"},
    "field.clinic": {"vi": "Nơi ĐKKCB ban đầu", "en": "Registered clinic"},
    "field.gateway": {"vi": "Cổng BHXH", "en": "BHXH gateway"},
    "field.queue": {"vi": "Số thứ tự", "en": "Queue number"},
    "desk.title": {"vi": "Mời bạn đến quầy tiếp đón", "en": "Please go to the reception desk"},
    "desk.body": {
        "vi": "Máy chưa xác thực được thẻ này. Nhân viên sẽ giúp bạn làm thủ tục",
        "en": "The kiosk could not verify this card. Staff will check you in",
    },
    "queue.repeat": {
        "vi": "Bạn đã có số {n} hôm nay",
        "en": "You already have number {n} today",
    },
    "number.title": {"vi": "Số thứ tự của bạn", "en": "Your queue number"},
    "number.body": {
        "vi": "Mời bạn chờ gọi số. Thẻ đã được lấy ra — thông tin cá nhân đã được xoá",
        "en": "Please wait to be called. Your card is out — your details have been cleared",
    },
    "ticket.printing": {"vi": "Đang in phiếu…", "en": "Printing your ticket…"},
    "ticket.printed": {
        "vi": "✔ Đã in phiếu — mời lấy phiếu",
        "en": "✔ Ticket printed — please take it",
    },
    "sex.Nam": {"vi": "Nam", "en": "Male"},
    "sex.Nữ": {"vi": "Nữ", "en": "Female"},
    "no_expiry": {"vi": "Không thời hạn", "en": "No expiry"},
    "badge.verified": {"vi": "✔ Thẻ thật — đã xác thực chip", "en": "✔ Genuine — chip verified"},
    "badge.issuer_unknown": {
        "vi": "● Dữ liệu nguyên vẹn — chưa xác minh được cơ quan cấp",
        "en": "● Data intact — issuer not verified",
    },
    "badge.failed": {
        "vi": "✘ Không xác thực được thẻ — mời gặp nhân viên",
        "en": "✘ Card could not be verified — please see staff",
    },
    "badge.not_chip": {"vi": "○ Không xác thực bằng chip", "en": "○ Not chip-verified"},
    "trust.vouched": {
        "vi": "Bảo chứng bởi CSCA: {name}{country}{source}",
        "en": "Vouched for by CSCA: {name}{country}{source}",
    },
    "trust.source.certificate_file": {"vi": " — tệp {name}", "en": " — file {name}"},
    "trust.source.master_list": {
        "vi": " — danh sách CSCA {name}",
        "en": " — master list {name}",
    },
    "trust.missing_cccd": {
        "vi": "Chưa cài CSCA của CCCD (“CSCA Vietnam”, C=VN). Cài bằng lệnh: {command}",
        "en": "The CCCD's CSCA (“CSCA Vietnam”, C=VN) is not installed. Install it: {command}",
    },
    "trust.missing": {
        "vi": "Chưa cài CSCA của nơi cấp ({issuer}). Cài bằng lệnh: {command}",
        "en": "The issuer's CSCA ({issuer}) is not installed. Install it: {command}",
    },
    "elig.eligible": {"vi": "✔ Thẻ BHYT hợp lệ", "en": "✔ Health insurance valid"},
    "elig.not_eligible": {"vi": "✘ Không đủ điều kiện BHYT", "en": "✘ Not eligible for BHYT"},
    "elig.unknown": {"vi": "? Chưa rõ — hỏi nhân viên", "en": "? Unknown — ask staff"},
    # What a patient reads under the status in self-check (staff advice is for reception).
    "elig.patient.eligible": {
        "vi": "Bạn được khám theo thẻ BHYT hôm nay.",
        "en": "Your health insurance covers today's visit.",
    },
    "elig.patient.not_eligible": {
        "vi": "Vui lòng đến quầy tiếp đón để được hướng dẫn.",
        "en": "Please go to the reception desk for help.",
    },
    "elig.patient.unknown": {
        "vi": "Quầy tiếp đón sẽ kiểm tra thẻ BHYT giúp bạn.",
        "en": "The reception desk will check your insurance.",
    },
    "elig.gateway_code": {"vi": "Mã kết quả BHXH: {code}", "en": "BHXH result code: {code}"},
    "elig.cache": {"vi": "từ bộ nhớ đệm, {age} trước", "en": "from cache, {age} old"},
    "elig.stale": {"vi": " — đã cũ", "en": " — stale"},
    "age.min": {"vi": "{n} phút", "en": "{n} min"},
    "age.h": {"vi": "{n} giờ", "en": "{n} h"},
    "age.d": {"vi": "{n} ngày", "en": "{n} d"},
    "error.retry": {"vi": "Thử lại", "en": "Try again"},
    "timeout.warning": {
        "vi": "Màn hình sẽ tự xoá sau {n} giây",
        "en": "The screen will clear in {n} s",
    },
    "timeout.more": {"vi": "Thêm thời gian", "en": "More time"},
    "reminder.take_card": {"vi": "Vui lòng lấy thẻ ra", "en": "Please take your card"},
    "phase.EF.CardAccess": {"vi": "Thông tin truy cập", "en": "Access information"},
    "phase.PACE": {"vi": "Mở kết nối an toàn (PACE)", "en": "Secure connection (PACE)"},
    "phase.BAC": {"vi": "Mở kết nối an toàn (BAC)", "en": "Secure connection (BAC)"},
    "phase.EF.SOD": {"vi": "Chữ ký dữ liệu", "en": "Data signature"},
    "phase.EF.COM": {"vi": "Danh mục", "en": "Contents"},
    "phase.DG1": {"vi": "Dòng MRZ", "en": "MRZ"},
    "phase.DG2": {"vi": "Ảnh chân dung", "en": "Photo"},
    "phase.DG13": {"vi": "Thông tin cá nhân", "en": "Personal data"},
    "phase.DG14": {"vi": "Khoá xác thực chip", "en": "Chip authentication key"},
    "phase.DG15": {"vi": "Khoá chống sao chép", "en": "Anti-cloning key"},
    "nav.today": {"vi": "Hôm nay", "en": "Today"},
    "nav.manual": {"vi": "Nhập tay", "en": "Manual entry"},
    "nav.settings": {"vi": "Cài đặt", "en": "Settings"},
    "nav.back": {"vi": "Quay lại", "en": "Back"},
    "today.title": {"vi": "Lượt tiếp đón hôm nay", "en": "Today's check-ins"},
    "today.search": {"vi": "Tìm theo tên hoặc số định danh", "en": "Search by name or ID number"},
    "today.export": {"vi": "Xuất", "en": "Export"},
    "today.reprint": {"vi": "In lại phiếu", "en": "Reprint ticket"},
    "today.reprint_select": {
        "vi": "Chọn một lượt trong danh sách để in lại phiếu",
        "en": "Choose a check-in in the list to reprint its ticket",
    },
    "ticket.reprinted": {"vi": "✔ Đã in lại phiếu", "en": "✔ Ticket printed again"},
    "today.count": {"vi": "{n} lượt", "en": "{n} check-ins"},
    "today.exported": {"vi": "Đã lưu tệp", "en": "File saved"},
    "today.export_failed": {
        "vi": "Chưa lưu được tệp. Chọn thư mục khác rồi thử lại",
        "en": "The file could not be saved. Choose another folder and try again",
    },
    "today.quarantined": {
        "vi": "{n} lượt không mở được nên đã cách ly, không có trong danh sách — báo quản trị viên",
        "en": "{n} check-ins do not open and were set aside, not listed — tell the administrator",
    },
    "today.all_departments": {"vi": "Tất cả khoa", "en": "All departments"},
    "today.all_kiosks": {"vi": "Tất cả máy", "en": "All kiosks"},
    "header.offline": {
        "vi": "Mất kết nối máy chủ từ {time} — {n} lượt chờ đồng bộ",
        "en": "Offline since {time} — {n} check-ins waiting to sync",
    },
    "today.cache_problem": {
        "vi": "Bộ nhớ đệm BHYT bị lỗi; vẫn tiếp đón bình thường — báo quản trị viên",
        "en": "The eligibility cache failed; check-ins go on without it — tell the administrator",
    },
    "today.list_failed": {
        "vi": "Chưa đọc được danh sách. Thử lại; nếu vẫn lỗi, báo quản trị viên",
        "en": "The list could not be read. Try again; if it fails again, tell the administrator",
    },
    "col.queue": {"vi": "Số", "en": "No."},
    "col.time": {"vi": "Giờ", "en": "Time"},
    "col.name": {"vi": "Họ và tên", "en": "Name"},
    "col.id": {"vi": "Số định danh", "en": "ID number"},
    "col.method": {"vi": "Cách", "en": "Method"},
    "col.verified": {"vi": "Xác thực", "en": "Verified"},
    "col.eligibility": {"vi": "BHYT", "en": "Insurance"},
    "col.call": {"vi": "Gọi số", "en": "Call"},
    "call.waiting": {"vi": "Đang chờ", "en": "Waiting"},
    "call.called": {"vi": "▶ Đang gọi", "en": "▶ Called"},
    "call.served": {"vi": "✔ Đã tiếp", "en": "✔ Served"},
    "call.no_show": {"vi": "✘ Vắng mặt", "en": "✘ No-show"},
    "call.next": {"vi": "Gọi số tiếp theo", "en": "Call next"},
    "call.recall": {"vi": "Gọi lại", "en": "Recall"},
    "call.no_show_button": {"vi": "Vắng mặt", "en": "No-show"},
    "call.department": {"vi": "Khoa", "en": "Department"},
    "call.one_queue": {"vi": "Cả phòng khám", "en": "Whole clinic"},
    "call.now": {
        "vi": "Đang gọi số {number} — phòng {room}",
        "en": "Calling {number} — room {room}",
    },
    "call.now_no_room": {"vi": "Đang gọi số {number}", "en": "Calling {number}"},
    "call.none": {"vi": "Chưa gọi số nào", "en": "No number called"},
    "call.empty": {
        "vi": "Không còn ai đang chờ ở khoa này",
        "en": "Nobody is waiting in this department",
    },
    "method.chip": {"vi": "Chip", "en": "Chip"},
    "method.bhyt_qr": {"vi": "QR thẻ BHYT", "en": "BHYT QR"},
    "method.manual": {"vi": "Nhập tay", "en": "Typed"},
    "verified.yes": {"vi": "✔ Chip", "en": "✔ Chip"},
    "verified.no": {"vi": "○ Không chip", "en": "○ Not chip"},
    "status.eligible": {"vi": "✔ Hợp lệ", "en": "✔ Eligible"},
    "status.not_eligible": {"vi": "✘ Không đủ", "en": "✘ Not eligible"},
    "status.unknown": {"vi": "? Chưa rõ", "en": "? Unknown"},
    "manual.title": {
        "vi": "Nhập tay (không đọc được chip)",
        "en": "Manual entry (the chip cannot be read)",
    },
    "manual.body": {
        "vi": "Lượt này không được xác thực bằng chip — kiểm tra giấy tờ của người bệnh",
        "en": "This check-in is not chip-verified — check the patient's papers",
    },
    "manual.id": {"vi": "Số định danh (12 số)", "en": "ID number (12 digits)"},
    "manual.name": {"vi": "Họ và tên", "en": "Full name"},
    "manual.dob": {"vi": "Ngày sinh (dd/mm/yyyy)", "en": "Date of birth (dd/mm/yyyy)"},
    "manual.ok": {"vi": "Tiếp nhận", "en": "Check in"},
    "manual.invalid_id": {
        "vi": "Số định danh phải đủ 12 chữ số",
        "en": "The ID number must be 12 digits",
    },
    "manual.invalid_name": {"vi": "Nhập họ và tên", "en": "Type the full name"},
    "manual.invalid_dob": {
        "vi": "Ngày sinh không hợp lệ — nhập dd/mm/yyyy",
        "en": "Not a valid date of birth — type dd/mm/yyyy",
    },
    "key.mrz_label": {
        "vi": "Hoặc nhập / quét 3 dòng MRZ ở mặt sau thẻ",
        "en": "Or type / scan the 3 MRZ lines on the back of the card",
    },
    "key.mrz": {"vi": "Dùng MRZ", "en": "Use the MRZ"},
    "pin.title": {"vi": "Mã PIN nhân viên", "en": "Operator PIN"},
    "pin.body": {"vi": "Nhập mã PIN để mở cài đặt", "en": "Type the PIN to open the settings"},
    "pin.wrong": {
        "vi": "Mã PIN không đúng. Còn {n} lần thử",
        "en": "Wrong PIN. {n} tries left",
    },
    "pin.locked": {
        "vi": "Đã khoá do nhập sai nhiều lần. Thử lại sau {n} giây",
        "en": "Locked after too many wrong PINs. Try again in {n} s",
    },
    "pin.unset": {
        "vi": "Chưa đặt mã PIN. Quản trị viên chạy: cccd-kiosk set-pin",
        "en": "No PIN is set. The administrator runs: cccd-kiosk set-pin",
    },
    "settings.title": {"vi": "Cài đặt", "en": "Settings"},
    "settings.reader": {"vi": "Đầu đọc", "en": "Reader"},
    "settings.gateway": {"vi": "Cổng BHXH", "en": "Eligibility gateway"},
    "settings.mode": {"vi": "Chế độ", "en": "Mode"},
    "settings.language": {"vi": "Ngôn ngữ", "en": "Language"},
    "settings.idle": {"vi": "Tự xoá màn hình sau", "en": "Wipe the screen after"},
    "settings.cache": {"vi": "Bộ nhớ đệm BHYT", "en": "Eligibility cache"},
    "settings.cache_value": {
        "vi": "mới trong {ttl} giờ, giữ tối đa {days} ngày",
        "en": "fresh for {ttl} h, kept up to {days} d",
    },
    "settings.quit": {"vi": "Thoát ki-ốt", "en": "Quit the kiosk"},
    "settings.none": {"vi": "(chưa cấu hình)", "en": "(not configured)"},
    "settings.demo_gateway": {
        "vi": "cổng BHXH mô phỏng {url}",
        "en": "BHXH gateway simulator {url}",
    },
    "settings.seconds": {"vi": "{n} giây", "en": "{n} s"},
    "settings.close": {"vi": "Khoá và quay lại", "en": "Lock and go back"},
    "settings.checks": {"vi": "Kiểm tra hệ thống", "en": "System checks"},
    "settings.checking": {"vi": "Đang kiểm tra…", "en": "Checking…"},
    "settings.recheck": {"vi": "Kiểm tra lại", "en": "Check again"},
    "settings.checks_failed": {
        "vi": "Không chạy được việc kiểm tra: bấm Kiểm tra lại",
        "en": "The checks did not run: press Check again",
    },
    "check.config": {"vi": "Cấu hình", "en": "Configuration"},
    "check.reader": {"vi": "Đầu đọc thẻ", "en": "Card reader"},
    "check.nfc": {"vi": "Đầu đọc NFC", "en": "NFC reader"},
    "check.gateway": {"vi": "Cổng BHXH", "en": "Eligibility gateway"},
    "check.his": {"vi": "Hệ thống HIS", "en": "Hospital system (HIS)"},
    "check.trust": {"vi": "Chứng thư tin cậy", "en": "Trusted certificates"},
    "check.crl": {"vi": "Danh sách thu hồi", "en": "Revocation lists"},
    "check.data folder": {"vi": "Thư mục dữ liệu", "en": "Data folder"},
    "check.disk": {"vi": "Ổ đĩa", "en": "Disk"},
    "check.journal": {"vi": "Nhật ký tiếp đón", "en": "Check-in journal"},
    "check.audit": {"vi": "Nhật ký thao tác", "en": "Audit trail"},
    "check.printer": {"vi": "Máy in phiếu", "en": "Ticket printer"},
    "check.clock": {"vi": "Đồng hồ", "en": "Clock"},
    "mode.self": {"vi": "Tự phục vụ", "en": "Self-check"},
    "mode.reception": {"vi": "Tiếp đón", "en": "Reception"},
    "lang.vi": {"vi": "Tiếng Việt", "en": "Vietnamese"},
    "lang.en": {"vi": "Tiếng Anh", "en": "English"},
    "tester.title": {"vi": "Bảng thử nghiệm (thẻ giả lập)", "en": "Tester panel (simulated card)"},
    "tester.card": {"vi": "Thẻ mẫu", "en": "Sample card"},
    "tester.fault": {"vi": "Lỗi giả lập", "en": "Fault"},
    "tester.tap": {"vi": "Chạm thẻ", "en": "Tap card"},
    "tester.remove": {"vi": "Nhấc thẻ", "en": "Remove card"},
    "tester.auto_key": {"vi": "Tự nhập mã", "en": "Type the CAN for me"},
    "fault.none": {"vi": "Không", "en": "None"},
    "fault.wrong_can": {"vi": "Sai mã CAN", "en": "Wrong CAN"},
    "fault.tampered": {"vi": "Dữ liệu bị sửa", "en": "Tampered"},
    "fault.clone": {"vi": "Chip sao chép", "en": "Clone"},
    "fault.tear": {"vi": "Nhấc thẻ giữa chừng", "en": "Removal mid-read"},
    "fault.gateway_down": {"vi": "Cổng BHXH ngừng", "en": "Gateway down"},
    "fault.gateway_slow": {"vi": "Cổng BHXH chậm", "en": "Gateway slow"},
}


def t(key: str, lang: Lang = DEFAULT_LANG, **values: object) -> str:
    """The string ``key`` in ``lang`` with ``values`` filled in (Vietnamese when missing)."""
    entry = STRINGS[key]
    text = entry.get(lang) or entry["vi"]
    return text.format(**values) if values else text


# ---- the department choice (ui/departments.py, ui/screens/department.py) ----------------
STRINGS.update(
    {
        "tester.ticket": {"vi": "Phiếu in gần nhất", "en": "Last printed ticket"},
        "dept.title": {"vi": "Chọn khoa khám", "en": "Choose a department"},
        "dept.body": {
            "vi": "Chạm vào khoa bạn muốn khám để lấy số thứ tự",
            "en": "Touch the department you want to see to get your queue number",
        },
        "dept.none": {
            "vi": "Không có khoa nào nhận đăng ký tại máy lúc này — mời bạn đến quầy tiếp đón",
            "en": "No department takes kiosk registrations now — please go to the reception desk",
        },
        "dept.room": {"vi": "Phòng {room}", "en": "Room {room}"},
        "dept.existing": {
            "vi": "Bạn đã có số {n} — {room}",
            "en": "You already have number {n} — {room}",
        },
        "dept.closed": {"vi": "Đóng cửa (mở {hours})", "en": "Closed (open {hours})"},
        "dept.desk_only": {
            "vi": "Khám {names} bằng BHYT: mời đăng ký tại quầy tiếp đón",
            "en": "{names} on BHYT: please register at the reception desk",
        },
        "dept.cancel": {"vi": "Huỷ", "en": "Cancel"},
        "dept.prev": {"vi": "◀ Trước", "en": "◀ Back"},
        "dept.next": {"vi": "Khoa khác ▶", "en": "More ▶"},
        "dept.assigning": {"vi": "Đang lấy số…", "en": "Getting your number…"},
        "dept.staff": {"vi": "Khoa khám", "en": "Department"},
        "dept.assign": {"vi": "Cấp số", "en": "Give a number"},
        "dept.staff_hint": {
            "vi": "Chọn khoa cho bệnh nhân, rồi bấm Cấp số",
            "en": "Choose the patient's department, then Give a number",
        },
    }
)


#: The command that installs a CSCA (``cccd-kiosk trust add``), as staff type it.
INSTALL_COMMAND = "cccd-kiosk trust add FILE --sha256 …"


def trust_text(pa: PassiveAuthResult | None, lang: Lang) -> str:
    """Staff's line about the CSCA: who vouched for the card (common name, country, trust
    file), or — issuer unknown — which CSCA is missing and how to install it; "" otherwise."""
    if pa is None:
        return ""
    info = pa.csca_info
    if info is not None:
        src = info.source
        source = (
            t(f"trust.source.{src.kind}", lang, name=src.name)
            if src is not None and src.kind != "added" and src.name
            else ""
        )
        country = f" ({info.country})" if info.country else ""
        name = info.common_name or info.subject
        return t("trust.vouched", lang, name=name, country=country, source=source)
    if pa.chain != "unknown_issuer":
        return ""
    issuer = pa.signer.issuer if pa.signer is not None else ""
    if issuer.endswith("C=VN") or ", C=VN," in issuer:
        return t("trust.missing_cccd", lang, command=INSTALL_COMMAND)
    return t("trust.missing", lang, issuer=issuer or "?", command=INSTALL_COMMAND)


def phase_label(phase: str, lang: Lang) -> str:
    """A reading phase (file or step name) in words; the raw name when none is known."""
    key = f"phase.{phase}"
    return t(key, lang) if key in STRINGS else phase
