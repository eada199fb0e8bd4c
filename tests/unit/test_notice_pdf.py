"""The notice PDF is a pure function of the letter; filenames are always safe."""
from portal.notices.letters import Letter, safe_filename
from portal.notices.pdf import render_pdf
from tests.pdf_reading import fonts_used, not_embedded, pdf_text, squeezed

__all__ = ["pdf_text", "squeezed"]  # other tests read PDFs through this module's names

def letter(locale="en", name="Alex Doe", objection=("Tell us why.",)):
    return Letter(locale=locale, title="Formal notice about your overdue account",
                  facts=[("Amount overdue", "CN¥5,000.00"), ("Pay by", "December 11, 2026")],
                  body=[f"Dear {name},", "Please pay CN¥5,000.00 by December 11, 2026."],
                  objection_title="If you disagree", objection=list(objection),
                  closing=["Yours sincerely,"])


def test_english_letter_is_a_pdf_with_the_amount_readable_and_its_fonts_inside(embedded_fonts):
    data = render_pdf(letter())
    assert data.startswith(b"%PDF")
    assert "CN¥5,000.00" in pdf_text(data)
    assert not_embedded(data) == [] and "STSong-Light" not in fonts_used(data)


def test_a_chinese_name_in_an_english_letter_is_set_in_the_embedded_chinese_font(embedded_fonts):
    data = render_pdf(letter(name="张伟"))
    assert "Dear 张伟," in pdf_text(data)
    assert not_embedded(data) == [] and len(fonts_used(data)) >= 2


def test_chinese_letter_embeds_its_fonts(embedded_fonts):
    zh = Letter(locale="zh_Hans", title="关于您逾期账户的正式通知", facts=[("逾期金额", "¥5,000.00")],
                body=["尊敬的张伟：" + "请于2026年12月11日前还款。" * 20], objection_title="如有异议",
                objection=["请告诉我们。"])
    data = render_pdf(zh)
    assert data.startswith(b"%PDF") and not_embedded(data) == []
    assert "请于2026年12月11日前还款。" in squeezed(pdf_text(data))


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
