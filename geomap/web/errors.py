"""Errors as visitors and scripts should see them: a 400 that says what was wrong, never a 500 page
with a traceback. /api/ and /export/ answer in JSON, pages in HTML."""
from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException, InternalServerError

from ..options import OptionsError


def _wants_json() -> bool:
    return request.path.startswith(("/api/", "/export/", "/oembed"))


def _respond(status: int, title: str, message: str):
    if _wants_json():
        resp = jsonify({"error": {"status": status, "title": title, "message": message}})
        resp.status_code = status
        return resp
    html = render_template("error.html", status=status, title=title, message=message)
    return html, status


def register(app: Flask) -> None:
    @app.errorhandler(OptionsError)
    def bad_option(exc: OptionsError):
        return _respond(400, "Bad request", str(exc))

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _respond(exc.code or 500, exc.name, exc.description or "")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        app.logger.exception("unhandled error on %s", request.path)
        err = InternalServerError()
        return _respond(500, err.name, "Something went wrong on our side; it has been logged.")
