"""Languages: gettext catalogs (Babel) for UI strings, and locale-aware dates and amounts.

UI strings live in geomap/translations/<locale>/LC_MESSAGES/messages.po, extracted with
`pybabel extract` and compiled to .mo; both files are committed so an install needs no build
step. Data text comes from the records' *_en / *_zh fields, with a visible fallback to English.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.numbers import format_compact_decimal, format_decimal
from babel.support import NullTranslations, Translations

LANGS = ("en", "zh")
DEFAULT_LANG = "en"
# Babel locales: British English writes "23 July 2019", as the issue asks.
LOCALES = {"en": "en_GB", "zh": "zh_Hans_CN"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"


@lru_cache(maxsize=None)
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    return Translations.load(str(TRANSLATIONS_DIR), [lang], domain="messages")


def N_(message: str) -> str:
    """Mark a string for the catalog (`pybabel extract -k N_`); it is translated where shown."""
    return message


def gettext(lang: str, message: str, **variables) -> str:
    text = translations(lang).gettext(message)
    return text % variables if variables else text


class Message:
    """A catalog message and the values it is filled with: str() gives the English text (logs,
    the command line, JSON errors), translate(lang) the visitor's language. Values are
    interpolated after translation, so they are never translated themselves."""

    def __init__(self, msgid: str, **params):
        self.msgid = msgid
        self.params = params

    def translate(self, lang: str) -> str:
        return gettext(lang, self.msgid, **self.params)

    def __str__(self) -> str:
        return self.msgid % self.params if self.params else self.msgid

    def __repr__(self) -> str:
        return f"Message({self.msgid!r}, **{self.params!r})"


def locale(lang: str) -> Locale:
    return Locale.parse(LOCALES[lang])


def format_agreement_date(value: dt.date | str, precision: str, lang: str) -> str:
    """Honest to its precision: "23 July 2019", "July 2019" or "2019" (2019年7月23日 in Chinese)."""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    loc = LOCALES[lang]
    if precision == "year":
        return format_skeleton("y", value, locale=loc)
    if precision == "month":
        return format_skeleton("yMMMM", value, locale=loc)
    return format_date(value, format="long", locale=loc)


def format_period(start: dt.date | str, start_precision: str, end: dt.date | str, end_precision: str,
                  lang: str) -> str:
    """A period, each end honest to its precision: "2018–2020", "March 2018 – June 2020";
    in Chinese "2018年—2020年". The same text twice (a period within one year) shows once."""
    first = format_agreement_date(start, start_precision, lang)
    last = format_agreement_date(end, end_precision, lang)
    if first == last:
        return first
    if lang == "zh":
        return f"{first}—{last}"
    return f"{first}–{last}" if " " not in first + last else f"{first} – {last}"


def format_amount(value_cny: float | None, lang: str) -> str | None:
    """13.7 billion yuan / 137亿元; None where no amount is stated."""
    if value_cny is None or value_cny != value_cny:  # None or NaN (pandas' missing float)
        return None
    loc = LOCALES[lang]
    if value_cny >= 10_000:
        number = format_compact_decimal(value_cny, format_type="short" if lang == "zh" else "long",
                                        locale=loc, fraction_digits=2)
    else:
        number = format_decimal(value_cny, locale=loc)
    return f"{number}元" if lang == "zh" else f"{number} yuan"


def format_number(value: int | float, lang: str) -> str:
    """1,234 in either language (Babel's grouping for the locale)."""
    return format_decimal(value, locale=LOCALES[lang])


def _text(value) -> str:
    """A data field as text: "" where it is missing (None, pandas' NaN, blank)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = str(value)
    return text if text.strip() else ""


def pick(lang: str, en: str | None, zh: str | None) -> tuple[str, bool]:
    """The text in `lang`, and whether it fell back to English (the UI marks that visibly)."""
    en, zh = _text(en), _text(zh)
    if lang == "zh":
        if zh:
            return zh, False
        return en, True
    return en or zh, False


def negotiate(accept_languages, default: str = DEFAULT_LANG) -> str:
    """Pick en or zh from an Accept-Language header (werkzeug's LanguageAccept)."""
    best = accept_languages.best_match(["en", "zh", "zh-CN", "zh-Hans", "zh-TW", "zh-HK"], default=None)
    if best is None:
        return default
    return "zh" if best.lower().startswith("zh") else "en"
