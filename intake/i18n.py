"""The languages workers can use, locale selection, and keeping compiled catalogs current."""

from __future__ import annotations

import functools
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from babel import Locale, support
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, Domain, get_locale

from intake.reports.burmese import spelled_for

TRANSLATIONS = Path(__file__).resolve().parents[1] / "translations"


@dataclass(frozen=True)
class Language:
    code: str  # as used in URLs and catalogs (DESIGN 7)
    name: str  # the language's own name, in its own script
    rtl: bool = False

    @property
    def bcp47(self) -> str:
        """The value for an HTML ``lang`` attribute."""
        return self.code.replace("_", "-")


LANGUAGES: tuple[Language, ...] = (
    Language("en", "English"),
    Language("es", "Español"),
    Language("zh_Hans", "简体中文"),
    Language("vi", "Tiếng Việt"),
    Language("th", "ไทย"),
    Language("ms", "Bahasa Melayu"),
    Language("id", "Bahasa Indonesia"),
    Language("fil", "Filipino"),
    Language("cs", "Čeština"),
    Language("ne", "नेपाली"),
    Language("my", "မြန်မာ"),
    Language("bn", "বাংলা"),
    Language("hi", "हिन्दी"),
    Language("ar", "العربية", rtl=True),
)
BY_CODE = {language.code: language for language in LANGUAGES}
DEFAULT = "en"
# Accept-Language tags map to our codes (zh-CN, zh-SG and zh-Hans all mean zh_Hans).
_ALIASES = {"zh": "zh_Hans", "zh_cn": "zh_Hans", "zh_sg": "zh_Hans", "zh_hans": "zh_Hans",
            "tl": "fil", "in": "id"}


def language(code: str) -> Language | None:
    return BY_CODE.get(code)


def script_of(text: str) -> str | None:
    """The script of the first letter of ``text`` (LATIN, CJK, THAI, DEVANAGARI, ...)."""
    for char in text:
        if char.isalpha():
            return _script(char)
    return None


def _script(letter: str) -> str:
    if letter in _ARABIC_SCRIPT_NOT_ARABIC:
        return "PERSO-ARABIC"
    return unicodedata.name(letter, "").partition(" ")[0]


@functools.cache
def script_of_language(code: str) -> str | None:
    """A language's script, read off its own name (ไทย: THAI)."""
    found = language(code)
    return script_of(found.name) if found is not None else None


# Letters of Urdu and Persian that Arabic does not write: a text with them is not Arabic.
_ARABIC_SCRIPT_NOT_ARABIC = frozenset("\u0679\u0688\u0691\u06ba\u06d2\u06c1\u06be"
                                      "\u067e\u0686\u0698\u06af\u06a9\u06cc")
# Vietnamese's letters that none of our other Latin-script languages writes: ă đ ơ ư â ê
# ô, vowels with a grave accent or a tilde ("xin chào"), and those with a dot below, a hook
# or two marks (Spanish and Czech write á é í ó ú ý, which say nothing).
_VIETNAMESE_LETTERS = frozenset(
    "ăđơưâêôàèìòùãõĂĐƠƯÂÊÔÀÈÌÒÙÃÕ" + "".join(map(chr, range(0x1EA0, 0x1EFA))))


@functools.cache
def _language_of_script() -> dict[str, str]:
    """Scripts only one of our languages is written in (Thai, Burmese, Chinese, Bengali,
    Arabic), to that language; Devanagari (Hindi and Nepali) and Latin are not."""
    languages: dict[str, list[str]] = {}
    for language_ in LANGUAGES:
        languages.setdefault(script_of_language(language_.code) or "", []).append(language_.code)
    return {script: codes[0] for script, codes in languages.items() if len(codes) == 1}


def written_in(text: str) -> str | None:
    """The one of our languages a text's letters show, if they show one: a script only that
    language is written in (a Chinese keyboard's full-width letters count as Latin), or,
    in Latin letters alone, Vietnamese's own letters. None if the letters show none, or
    more than one (Thai and Chinese together; Devanagari, Hindi or Nepali)."""
    if text.isascii():
        return None
    scripts: set[str] = set()
    vietnamese = False
    for char in unicodedata.normalize("NFKC", text):
        if not char.isalpha() or char.isascii():
            continue
        if char in _VIETNAMESE_LETTERS:
            vietnamese = True
        else:
            scripts.add(_script(char))
    scripts.discard("LATIN")
    if len(scripts) == 1:
        return _language_of_script().get(scripts.pop())
    return "vi" if vietnamese and not scripts else None


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an Accept-Language header; English if none fits.

    Hand-parsed (not werkzeug's best_match) so that a malformed header, or one with a region
    we do not list, still finds the language rather than falling over.
    """
    candidates: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "")[:500].split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        code = _match(tag.strip())
        if code is not None and quality > 0:
            candidates.append((-quality, index, code))
    return min(candidates)[2] if candidates else DEFAULT


def _match(tag: str) -> str | None:
    key = tag.replace("-", "_").lower()
    if key in _ALIASES:
        return _ALIASES[key]
    for language_ in LANGUAGES:
        if language_.code.lower() == key:
            return language_.code
    primary = key.split("_", 1)[0]
    if primary.startswith("zh"):
        return "zh_Hans" if key in ("zh", "zh_hans", "zh_cn", "zh_sg") else None
    return _ALIASES.get(primary) or next(
        (language_.code for language_ in LANGUAGES if language_.code == primary), None
    )


def select_locale() -> str:
    """Flask-Babel's locale selector: the worker page's language prefix, else the browser's."""
    chosen = g.get("lang") if has_request_context() else None
    if chosen:
        return str(chosen)
    if has_request_context():
        return negotiate(request.headers.get("Accept-Language"))
    return DEFAULT


def compile_catalogs(directory: Path = TRANSLATIONS) -> int:
    """Compile every ``messages.po`` whose ``.mo`` is missing or older; return how many.

    Runs at app start so that an editable install (README's command) is always translated.
    """
    compiled = 0
    for po_path in directory.glob("*/LC_MESSAGES/messages.po"):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle)
        # Each process writes its own temporary file: gunicorn's workers start at once and
        # may compile the same catalog together; the last rename wins, with the same bytes.
        with tempfile.NamedTemporaryFile(dir=mo_path.parent, prefix="messages.",
                                         suffix=".mo.tmp", delete=False) as handle:
            temporary = Path(handle.name)
            try:
                write_mo(handle, catalog, use_fuzzy=False)
            except BaseException:
                temporary.unlink()
                raise
        temporary.chmod(0o644)  # translations, readable by the service's user (mkstemp: 0600)
        temporary.replace(mo_path)
        compiled += 1
    return compiled


def language_label(code: str) -> str:
    """A language's English name for the desk's pages ("Burmese", not "my"), from CLDR
    through Babel; a code we do not know as it is."""
    return str(_ENGLISH.languages.get(code, code)) if code in BY_CODE else code


def country_label(code: str) -> str:
    """A country's English name with its code, for the desk's and buyers' figures
    ("Malaysia (MY)"); a code CLDR does not know as it is."""
    name = _ENGLISH.territories.get(code.upper())
    return f"{name} ({code})" if name else code


_ENGLISH = Locale("en")


def zawgyi_pages() -> bool:
    """Whether this request's page is spelled for a phone that shows Burmese in Zawgyi (the
    worker pages under ``/my-zawgyi/``, ``channels.web.zawgyi``)."""
    return has_request_context() and bool(g.get("zawgyi"))


class _SpellingDomain(Domain):  # type: ignore[misc]  # Flask-Babel ships no types
    """The app's translations; on a page for a Zawgyi phone, the Burmese catalog spelled in
    Zawgyi (built once per process, from the same catalog: nothing to translate twice)."""

    def get_translations(self) -> support.NullTranslations:
        translations: support.NullTranslations = super().get_translations()
        if not zawgyi_pages() or not isinstance(translations, support.Translations):
            return translations
        cache = self.get_translations_cache(None)
        key = (str(get_locale()), "zawgyi")
        spelled: support.Translations | None = cache.get(key)
        if spelled is None:
            spelled = cache[key] = _spelled_in_zawgyi(translations)
        return spelled


def _spelled_in_zawgyi(translations: support.Translations) -> support.Translations:
    spelled = support.Translations()
    spelled._catalog = {key: spelled_for(value, zawgyi=True)
                        for key, value in translations._catalog.items()}
    spelled.plural = translations.plural
    return spelled


def init_babel(app: Flask) -> None:
    app.add_template_filter(language_label, "language_label")
    compile_catalogs()
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS)
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    babel = Babel(app, locale_selector=select_locale)
    # Flask-Babel's one domain (a cached property): ours also spells pages for Zawgyi phones.
    babel.domain_instance = _SpellingDomain(domain=app.config.get("BABEL_DOMAIN", "messages"))
