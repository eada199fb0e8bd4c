"""The notice PDF is a pure function of the letter; filenames are always safe."""
import base64
import re
import zlib

from portal.notices.letters import Letter, safe_filename
from portal.notices.pdf import render_pdf

_TOKEN = re.compile(rb"\((?:\\.|[^\\)])*\)|<[0-9A-Fa-f\s]*>|/[^\s/\[\]()<>]+|[\[\]]|[^\s/\[\]()<>]+",
                    re.S)
_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _literal(token: bytes) -> bytes:
    def unescape(match):
        code = match.group(1)
        if code[:1].isdigit():
            return bytes([int(code, 8) & 0xFF])
        return _ESCAPES.get(code, b"" if code in (b"\n", b"\r") else code)

    return re.sub(rb"\\([0-7]{1,3}|.)", unescape, token[1:-1], flags=re.S)


def _string(token: bytes) -> bytes:
    return _literal(token) if token[:1] == b"(" else bytes.fromhex(token[1:-1].decode())


def _fonts(data: bytes) -> dict[bytes, str]:
    """Font resource name (b"F1") -> Python codec for its strings."""
    objects = dict(re.findall(rb"(\d+) 0 obj(.*?)endobj", data, re.S))
    codecs = {}
    for number, body in objects.items():
        if b"/Type /Font" in body or b"/Type/Font" in body:
            codecs[number] = "utf-16-be" if b"UCS2" in body else "cp1252"
    names = {}
    for resources in re.findall(rb"/Font\s+(\d+) 0 R", data):
        for name, number in re.findall(rb"/(\w+) (\d+) 0 R", objects[resources]):
            names[name] = codecs[number]
    return names


def _streams(data: bytes):
    for raw in re.findall(rb"stream\r?\n(.*?)endstream", data, re.S):
        raw = raw.strip()
        if raw.endswith(b"~>"):  # reportlab wraps the deflated bytes in ASCII85
            raw = zlib.decompress(base64.a85decode(raw[:-2].replace(b"\n", b"")))
        yield raw


def pdf_text(data: bytes) -> str:
    """The text a reader sees, line by line, decoded with each font's encoding (Helvetica's
    WinAnsi, or UCS-2 for the Chinese CID font): enough to read a letter without a PDF
    library."""
    fonts = _fonts(data)
    lines = []
    for stream in _streams(data):
        operands, codec = [], "cp1252"
        for token in _TOKEN.findall(stream):
            if token == b"Tf":
                codec = fonts[operands[-2][1:]]
            elif token in (b"Tj", b"TJ", b"'", b'"'):
                lines.append("".join(_string(t).decode(codec) for t in operands
                                     if t[:1] in (b"(", b"<")))
            if token.isalpha() or token in (b"'", b'"', b"T*"):
                operands = []
            else:
                operands.append(token)
    return "\n".join(lines)


def squeezed(text: str) -> str:
    """Without whitespace, so a sentence matches however the PDF wrapped its lines."""
    return "".join(text.split())


def letter(locale="en", name="Alex Doe", objection=("Tell us why.",)):
    return Letter(locale=locale, title="Formal notice about your overdue account",
                  facts=[("Amount overdue", "CN¥5,000.00"), ("Pay by", "December 11, 2026")],
                  body=[f"Dear {name},", "Please pay CN¥5,000.00 by December 11, 2026."],
                  objection_title="If you disagree", objection=list(objection),
                  closing=["Yours sincerely,"])


def test_english_letter_is_a_pdf_in_helvetica_with_the_amount_readable():
    data = render_pdf(letter(), compress=False)
    assert data.startswith(b"%PDF")
    assert b"5,000.00" in data and b"Helvetica" in data and b"STSong" not in data


def test_a_chinese_name_in_an_english_letter_still_renders_with_the_cjk_font():
    data = render_pdf(letter(name="张伟"), compress=False)
    assert b"STSong-Light" in data and b"Helvetica" in data


def test_chinese_letter_uses_the_built_in_cid_font_only():
    zh = Letter(locale="zh_Hans", title="关于您逾期账户的正式通知", facts=[("逾期金额", "¥5,000.00")],
                body=["尊敬的张伟：" + "请于2026年12月11日前还款。" * 20], objection_title="如有异议",
                objection=["请告诉我们。"])
    data = render_pdf(zh)
    assert data.startswith(b"%PDF") and b"STSong-Light" in data


def test_the_letter_tells_how_to_object_after_its_body():
    objection = ["If you think this amount is wrong, or you want to object to this notice, "
                 "please tell us. You can raise a dispute in the repayment portal or call the "
                 "number on the back of your card.", "We will check what you send us."]
    text = squeezed(pdf_text(render_pdf(letter(objection=objection))))
    assert squeezed("Please pay CN¥5,000.00 by December 11, 2026.") in text  # the extractor
    heading = text.index(squeezed("If you disagree"))
    assert heading > text.index(squeezed("Dear Alex Doe,"))
    for paragraph in objection:
        assert text.index(squeezed(paragraph)) > heading


def test_a_chinese_letter_tells_how_to_object_in_chinese():
    zh = Letter(locale="zh_Hans", title="关于您逾期账户的正式通知", facts=[("逾期金额", "¥5,000.00")],
                body=["尊敬的张伟："], objection_title="如有异议",
                objection=["如果您认为金额有误或想对本通知提出异议，请告诉我们。" * 3])
    text = squeezed(pdf_text(render_pdf(zh)))
    assert "如有异议" in text and "¥5,000.00" in text
    assert squeezed(zh.objection[0]) in text


def test_same_letter_gives_the_same_bytes():
    assert render_pdf(letter()) == render_pdf(letter())


def test_safe_filename_keeps_only_plain_characters():
    assert safe_filename("FN-2026-000123", "7") == "notice-FN-2026-000123.pdf"
    assert safe_filename('../../etc/"passwd"\r\n', "7") == "notice-etc-passwd.pdf"
    assert safe_filename("通知", "7") == "notice-7.pdf"
    assert safe_filename(None, "7") == "notice-7.pdf"
