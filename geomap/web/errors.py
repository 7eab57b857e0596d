"""Errors as visitors and scripts should see them: a 400 that says what was wrong, never a 500 page
with a traceback. /api/ and /export/ answer in JSON (English, for scripts), pages in HTML in the
visitor's language: the lang option where it is valid, else Accept-Language."""
from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import Flask, current_app, g, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from .. import i18n
from ..i18n import N_, Message
from ..options import OptionsError

# Titles (werkzeug's status names) and default messages of the errors a visitor can meet, for
# the catalog. JSON answers keep the English title.
TITLES = {
    400: N_("Bad Request"),
    403: N_("Forbidden"),
    404: N_("Not Found"),
    405: N_("Method Not Allowed"),
    500: N_("Internal Server Error"),
}
DEFAULT_MESSAGES = {
    404: N_("There is no page at this address. Check the address, or go back to the map."),
    405: N_("This address does not accept that kind of request."),
    500: N_("Something went wrong on our side; it has been logged."),
}


# RFC 3986 pchar and "/", less "%" (the decoded path is encoded again) and "\\".
PATH_SAFE = "/:@!$&'()*+,;=-._~"


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/export/", "/oembed"))


def _lang_param() -> str:
    """The query parameter that holds the page's language: `lang`, unless the view said another
    (the snippet builder's is `ui`: its `lang` is the embed's)."""
    return g.get("lang_param", "lang")


def _lang_in_url() -> str | None:
    arg = (request.args.get(_lang_param()) or "").strip().lower()
    return arg if arg in i18n.LANGS else None


def _lang() -> str:
    """The page's language: as the view chose it, else a valid lang option, else Accept-Language."""
    lang = g.get("lang")
    if lang in i18n.LANGS:
        return lang
    return _lang_in_url() or i18n.negotiate(request.accept_languages)


def _switch_url(lang: str) -> str:
    """This address in another language. The path is any the visitor typed (a 404), so it is
    percent-encoded and starts with exactly one slash: "/\\evil.example" or "//evil.example"
    must stay a path on this site, not become a link to another host."""
    param = _lang_param()
    args = [(k, v) for k, v in request.args.items(multi=True) if k != param] + [(param, lang)]
    path = "/" + quote(request.path, safe=PATH_SAFE).lstrip("/")
    return f"{path}?{urlencode(args)}"


def _responder(status: int, title: str, message: str | Message):
    """The answer of a module that renders its own errors under its prefix (the OGC API's
    exceptions), or None."""
    for prefix, respond in current_app.extensions.get("geomap.error_responders", {}).items():
        if request.path == prefix or request.path.startswith(prefix + "/"):
            return respond(status, title, message)
    return None


def _respond(status: int, title: str, message: str | Message):
    own = _responder(status, title, message)
    if own is not None:
        return own
    if _wants_json():
        resp = jsonify({"error": {"status": status, "title": title, "message": str(message)}})
        resp.status_code = status
        return resp
    lang = g.lang = _lang()
    text = message.translate(lang) if isinstance(message, Message) else message
    in_url = _lang_in_url() is not None
    html = render_template("error.html", status=status, title=i18n.gettext(lang, title), message=text,
                           lang=lang, switch={code: _switch_url(code) for code in i18n.LANGS},
                           home="/?" + urlencode({"lang": lang}) if in_url else "/")
    # Without a lang in the URL the page's language came from Accept-Language: caches must know.
    headers = {} if in_url else {"Vary": "Accept-Language"}
    return html, status, headers


def _description(exc: HTTPException) -> str | Message:
    """The exception's own message, or ours where werkzeug's generic one would show."""
    description = exc.description or ""
    if isinstance(description, Message):
        return description
    if description == type(exc).description and exc.code in DEFAULT_MESSAGES:
        return Message(DEFAULT_MESSAGES[exc.code])
    return description


def register(app: Flask) -> None:
    @app.errorhandler(OptionsError)
    def bad_option(exc: OptionsError):
        return _respond(400, TITLES[400], exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _respond(exc.code or 500, TITLES.get(exc.code, exc.name), _description(exc))

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        return _respond(500, TITLES[500], Message(DEFAULT_MESSAGES[500]))
