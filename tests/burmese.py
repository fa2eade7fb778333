"""Burmese for the tests: the same words as a Zawgyi keyboard and a Unicode one type them,
and our prompts rendered in Burmese."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_babel import force_locale

# "The employer does not pay wages. They keep our passports.", as a Zawgyi keyboard types it
# (written out, not derived from the converter under test), and as a Unicode one does.
ZAWGYI_WORDS = ("\u1021\u101c\u102f\u1015\u1039\u101b\u103d\u1004\u1039\u1000 \u101c\u1005"
                "\u102c \u1019\u1031\u1015\u1038\u1018\u1030\u1038\u104b \u1015\u1010\u1039"
                "\u1005\u1015\u102d\u102f\u1094\u1000\u102d\u102f \u101e\u102d\u1019\u1039"
                "\u1038\u1011\u102c\u1038\u1010\u101a\u1039\u104b")
UNICODE_WORDS = "အလုပ်ရှင်က လစာ မပေးဘူး။ ပတ်စပို့ကို သိမ်းထားတယ်။"


def burmese(app: Flask, prompt: Any, **values: str) -> str:
    with app.test_request_context(), force_locale("my"):
        text = str(prompt)
    return text % values if values else text
