"""The notice PDF is a pure function of the letter; filenames are always safe."""
from portal.notices.letters import Letter, safe_filename
from portal.notices.pdf import render_pdf


def letter(locale="en", name="Alex Doe"):
    return Letter(locale=locale, title="Formal notice about your overdue account",
                  facts=[("Amount overdue", "CN¥5,000.00"), ("Pay by", "December 11, 2026")],
                  body=[f"Dear {name},", "Please pay CN¥5,000.00 by December 11, 2026."],
                  objection_title="If you disagree", objection=["Tell us why."],
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


def test_same_letter_gives_the_same_bytes():
    assert render_pdf(letter()) == render_pdf(letter())


def test_safe_filename_keeps_only_plain_characters():
    assert safe_filename("FN-2026-000123", "7") == "notice-FN-2026-000123.pdf"
    assert safe_filename('../../etc/"passwd"\r\n', "7") == "notice-etc-passwd.pdf"
    assert safe_filename("通知", "7") == "notice-7.pdf"
    assert safe_filename(None, "7") == "notice-7.pdf"
