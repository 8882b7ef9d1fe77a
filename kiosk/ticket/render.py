"""A ticket as a 1-bit image the width of the paper, for ESC/POS raster printing.

Vietnamese is drawn, not sent as text: a thermal printer's code pages have no "ữ" or "ặ",
and what they do have differs per model. The text is NFC, drawn with a font that has every
Vietnamese letter (DejaVu Sans, Debian's fonts-dejavu-core); the queue number is the largest
thing on the page. The QR of the check-in id is drawn too when ``qr`` is true (for printers
without a native QR command); otherwise the printer draws it (``drivers.printer``).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from kiosk.ticket.model import Ticket, TicketError

#: Dots across the paper: 576 for 80 mm paper at 203 dpi, 384 for 58 mm.
PAPER_80MM = 576
PAPER_58MM = 384
#: Where Debian and Ubuntu put DejaVu Sans (fonts-dejavu-core).
FONT_DIRS = (
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/local/share/fonts"),
)
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"


def _font(name: str, size: int) -> ImageFont.FreeTypeFont:
    for folder in FONT_DIRS:
        path = folder / name
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    raise TicketError(f"no {name} (a font with every Vietnamese letter): install fonts-dejavu-core")


def _lines(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont, width: int
) -> list[str]:
    """``text`` wrapped at word boundaries to fit ``width`` dots."""
    out: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if line and draw.textlength(trial, font=font) > width:
            out.append(line)
            line = word
        else:
            line = trial
    if line:
        out.append(line)
    return out


def render(ticket: Ticket, *, width: int = PAPER_80MM, qr: bool = False) -> Image.Image:
    """The ticket as a mode "1" image ``width`` dots wide (black on white)."""
    if width not in (PAPER_58MM, PAPER_80MM):
        raise TicketError(f"paper width must be {PAPER_58MM} or {PAPER_80MM} dots")
    scale = width / PAPER_80MM
    big = _font(_BOLD, int(150 * scale))
    head = _font(_BOLD, int(34 * scale))
    body = _font(_REGULAR, int(28 * scale))
    small = _font(_REGULAR, int(24 * scale))
    margin = int(16 * scale)
    inner = width - 2 * margin
    scratch = ImageDraw.Draw(Image.new("1", (1, 1)))
    blocks: list[tuple[Sequence[str], ImageFont.FreeTypeFont, int]] = []

    def add(text: str | None, font: ImageFont.FreeTypeFont, gap: int = 8) -> None:
        if text:
            blocks.append((_lines(scratch, text, font, inner), font, int(gap * scale)))

    add(ticket.hospital, head)
    if ticket.department_vi:
        add(ticket.department_vi, head, 16)
    if ticket.department_en and ticket.department_en != ticket.department_vi:
        add(ticket.department_en, small)
    add("Số thứ tự / Queue number", body, 20)
    add(str(ticket.queue_number), big, 4)
    if ticket.room:
        add(f"Phòng / Room {ticket.room}", head, 8)
    add(f"{ticket.issued_at:%d/%m/%Y %H:%M}", body, 16)
    vi, en = ticket.status_words
    add(vi, body, 12)
    add(en, small)

    def height_of(font: ImageFont.FreeTypeFont) -> int:
        top, bottom = font.getbbox("ÁẶỮgjpqy")[1::2]
        return int(bottom - top) + int(6 * scale)

    qr_img = _qr_image(ticket.checkin_id, int(inner * 0.55)) if qr else None
    total = margin * 2 + sum(gap + height_of(f) * len(lines) for lines, f, gap in blocks)
    if qr_img is not None:
        total += qr_img.height + margin
    page = Image.new("1", (width, total), 1)
    draw = ImageDraw.Draw(page)
    y = margin
    for lines, font, gap in blocks:
        y += gap
        for line in lines:
            x = (width - draw.textlength(line, font=font)) / 2
            draw.text((x, y - font.getbbox("Á")[1]), line, font=font, fill=0)
            y += height_of(font)
    if qr_img is not None:
        page.paste(qr_img, ((width - qr_img.width) // 2, y + margin // 2))
    return page


def _qr_image(data: str, size: int) -> Image.Image:
    """The QR code of ``data``, about ``size`` dots square, as a mode "1" image."""
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=2)
    code.add_data(data)
    code.make(fit=True)
    img = code.make_image(fill_color="black", back_color="white").get_image().convert("1")
    factor = max(1, size // img.width)
    return img.resize((img.width * factor, img.height * factor), Image.Resampling.NEAREST)
