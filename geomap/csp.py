"""Content-Security-Policy sources for a rendered HTML document: the sha256 hashes of its inline
scripts and styles, so that a policy can allow exactly those and no other inline code (no
'unsafe-inline').

Plain functions over the document's bytes, used by the web app's response layer (once per
cached body) and by `geomap build`'s standalone file. They know nothing of the templates: any
inline <script> a page carries is found, whichever template or module wrote it.

A script counts as executable when it has no `src` and its `type` is absent, empty, a
JavaScript MIME type or "module"; data blocks such as <script type="application/json"> are not
script, and need no hash. Hashes are computed as the browser does: over the UTF-8 bytes of the
element's text, after the HTML parser has turned CR LF and CR into LF.
"""
from __future__ import annotations

import base64
import hashlib
import re

# The MIME types of HTML's "JavaScript MIME type essence match" (what browsers run as classic
# scripts), and "module".
JS_TYPES = frozenset({
    "", "module", "application/ecmascript", "application/javascript", "application/x-ecmascript",
    "application/x-javascript", "text/ecmascript", "text/javascript", "text/javascript1.0",
    "text/javascript1.1", "text/javascript1.2", "text/javascript1.3", "text/javascript1.4",
    "text/javascript1.5", "text/jscript", "text/livescript", "text/x-ecmascript", "text/x-javascript",
})

# What the HTML tokenizer does, enough for documents we write: comments are skipped, a script
# start tag's attributes may quote ">", its text runs to the first "</script" that is followed
# by whitespace, "/" or ">".
_NEXT = re.compile(rb"<!--|<script(?=[\s/>])", re.IGNORECASE)
_COMMENT_END = re.compile(rb"--!?>")
_START_TAG_REST = re.compile(rb"""(?:[^>"']|"[^"]*"|'[^']*')*>""")
_SCRIPT_END = re.compile(rb"</script[\s/>]", re.IGNORECASE)
_ATTR = re.compile(rb"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")


def _attributes(tag: bytes) -> dict[str, str]:
    attrs: dict[str, str] = {}
    for m in _ATTR.finditer(tag):
        name = m.group(1).decode("utf-8", "replace").lower()
        value = next((g for g in m.groups()[1:] if g is not None), b"")
        attrs.setdefault(name, value.decode("utf-8", "replace"))
    return attrs


def inline_scripts(document: bytes | str) -> list[bytes]:
    """The text of every executable inline script in the document, in order, as UTF-8 bytes
    with newlines normalised."""
    data = document.encode("utf-8") if isinstance(document, str) else document
    found: list[bytes] = []
    pos = 0
    while True:
        m = _NEXT.search(data, pos)
        if not m:
            return found
        if m.group(0) == b"<!--":
            end = _COMMENT_END.search(data, m.end())
            pos = end.end() if end else len(data)
            continue
        rest = _START_TAG_REST.match(data, m.end())
        if not rest:
            return found
        attrs = _attributes(data[m.end():rest.end() - 1])
        close = _SCRIPT_END.search(data, rest.end())
        text_end = close.start() if close else len(data)
        if "src" not in attrs and attrs.get("type", "").strip().lower() in JS_TYPES:
            text = data[rest.end():text_end]
            found.append(text.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
        pos = close.end() if close else len(data)


def source_hash(text: bytes) -> str:
    """A CSP hash source for one script's text: 'sha256-<base64>'."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text).digest()).decode("ascii") + "'"


def script_hashes(document: bytes | str) -> tuple[str, ...]:
    """The hash sources of the document's inline scripts, each once, in order."""
    return tuple(dict.fromkeys(source_hash(t) for t in inline_scripts(document)))


# -- styles --------------------------------------------------------------------------------------

_STYLE = re.compile(rb"<style\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>(.*?)</style[\s/>]", re.IGNORECASE | re.DOTALL)


def style_hashes(document: bytes | str) -> tuple[str, ...]:
    """The hash sources of the document's <style> elements, each once, in order.

    Styles need no 'unsafe-inline' either: Leaflet 1.9 and its plugins style what they draw
    through the CSSOM (element.style), which a policy does not govern, and write no style
    attribute; the pages keep their styles in <style> elements and stylesheets. A style
    attribute in a page's markup is blocked, and the browser tests report it.
    """
    data = document.encode("utf-8") if isinstance(document, str) else document
    texts = (m.group(1).replace(b"\r\n", b"\n").replace(b"\r", b"\n") for m in _STYLE.finditer(data))
    return tuple(dict.fromkeys(source_hash(t) for t in texts))
