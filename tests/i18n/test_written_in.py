"""Which of our languages a text's letters show (``intake.i18n.written_in``): a first SMS is
answered in it. Only what the letters tell for certain: a script only one of our languages
is written in, or Vietnamese's own letters."""

from __future__ import annotations

import pytest

from intake.i18n import LANGUAGES, script_of_language, written_in


@pytest.mark.parametrize(("text", "language"), [
    ("你好，工厂扣了我们的工资", "zh_Hans"),
    ("สวัสดีครับ หัวหน้ายึดพาสปอร์ต", "th"),
    ("မင်္ဂလာပါ", "my"),
    ("\u1019\u1004\u1039\u1002\u101c\u102c\u1015\u102b", "my"),  # typed in Zawgyi
    ("মালিক বেতন দেয়নি", "bn"),
    ("مرحبا، لم يدفعوا لنا", "ar"),
    ("xin chào", "vi"),
    ("Công ty không trả lương", "vi"),
    ("MY4821 หัวหน้ายึดพาสปอร์ต", "th"),  # the code's Latin letters say nothing
    ("工厂ＭＹ４８２１扣工资", "zh_Hans"),  # nor do a Chinese keyboard's full-width ones
    ("hello 你好", "zh_Hans"),
])
def test_letters_that_show_one_language(text: str, language: str) -> None:
    assert written_in(text) == language


@pytest.mark.parametrize("text", [
    "hello", "", "1", "MY4821", "ＭＹ４８２１",
    "xin chao",  # Vietnamese without its marks: Malay, Indonesian, Filipino look the same
    "Hola señor, ¿qué pasó?", "Dobrý den, nezaplatili nám",  # Spanish, Czech: Latin
    "नमस्ते, हमें वेतन नहीं मिला",  # Devanagari: Hindi or Nepali
    "میرا نام علی ہے",  # Urdu: Arabic letters, not Arabic
    "안녕하세요", "こんにちは",  # scripts none of our languages is written in
    "你好 สวัสดี",  # two scripts: no one language
    "👍🙏",
])
def test_letters_that_show_none(text: str) -> None:
    assert written_in(text) is None


def test_a_script_shown_by_one_language_only() -> None:
    """Each language found by its script is the only one of ours written in it."""
    for language in LANGUAGES:
        script = script_of_language(language.code)
        own = [other.code for other in LANGUAGES if script_of_language(other.code) == script]
        assert (written_in(language.name) == language.code) == (
            len(own) == 1 or language.code == "vi"), language.code
