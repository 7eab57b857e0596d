"""Which hosts the app answers for, whose forwarded headers it believes, and the one place
absolute URLs are made.

An absolute URL in a cached body (the oEmbed answer, the discovery link, the snippet builder's
iframe and its embed-resize.js) must not come from the request's Host header: a forged Host
would put an attacker's host into a page that a shared cache then serves to everyone.

- ``GEOMAP_PUBLIC_URL`` (``https://maps.example.org`` or ``https://example.org/geomap``): the
  site's public base URL, the only source of absolute URLs when it is set. Requests are
  accepted for its host, the loopback hosts and ``GEOMAP_TRUSTED_HOSTS``; whichever of these
  the request names, absolute URLs say the public URL.
- Without it, only the loopback hosts (``localhost``, ``127.0.0.1``, ``[::1]``, any port) and
  ``GEOMAP_TRUSTED_HOSTS`` (host names separated by spaces or commas, any port) are accepted,
  and absolute URLs are built from the request's host once it has been checked against them.
- Any other Host, or one that is not a host name at all, gets a 400 before any view runs.
  The error never repeats the Host it refused.
- ``GEOMAP_PROXY_FIX=N``: N proxies in front set X-Forwarded-For and X-Forwarded-Proto, and
  werkzeug's ProxyFix believes the last N entries. Unset, forwarded headers are ignored.

A setting that cannot be read stops start-up with one line (ConfigError).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import Flask, current_app, request, url_for
from werkzeug.exceptions import BadRequest

from .. import ConfigError
from ..i18n import N_, Message

PUBLIC_URL = "GEOMAP_PUBLIC_URL"
TRUSTED_HOSTS = "GEOMAP_TRUSTED_HOSTS"
PROXY_FIX = "GEOMAP_PROXY_FIX"
LOOPBACK = ("localhost", "127.0.0.1", "[::1]")
MAX_PROXIES = 10

_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = rf"{_LABEL}(?:\.{_LABEL})*\.?"
_IPV6 = r"\[[0-9a-f:.]{2,45}\]"
_HOST = re.compile(rf"^(?P<name>{_NAME}|{_IPV6})(?::(?P<port>[0-9]{{1,5}}))?$", re.IGNORECASE)


class UntrustedHost(BadRequest):
    """A Host header that is not a host name, or names a host this site does not serve."""


@dataclass(frozen=True)
class PublicURL:
    scheme: str   # http or https
    netloc: str   # host[:port], lower case, default port left out
    host: str     # the host name alone, as the Host check compares it
    path: str     # the app's root below the host: "" or "/geomap"

    @property
    def base(self) -> str:
        """The public URL with a trailing slash: what request.host_url would be."""
        return f"{self.scheme}://{self.netloc}{self.path}/"


def split_host(value: str) -> tuple[str, int | None] | None:
    """(host name, port) of a Host header, the name normalised (lower case, no trailing dot,
    IPv6 compressed in brackets); None if it is not a host name and an optional port."""
    match = _HOST.match(value or "")
    if not match:
        return None
    name = match.group("name").lower().rstrip(".")
    if name.startswith("["):
        try:
            name = f"[{ipaddress.IPv6Address(name[1:-1]).compressed}]"
        except ValueError:
            return None
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return None
    return name, int(port) if port is not None else None


def parse_public_url(value: object) -> PublicURL | None:
    text = str(value).strip() if value is not None else ""
    if not text:
        return None
    example = "write the site's address as people reach it, e.g. https://maps.example.org or https://example.org/geomap"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ConfigError(f"{PUBLIC_URL}: {text!r} is not a URL; {example}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ConfigError(f"{PUBLIC_URL}: {text!r} is not an http(s) URL of a host; {example}")
    if parts.query or parts.fragment or "?" in text or "#" in text:
        raise ConfigError(f"{PUBLIC_URL}: {text!r} has a query or fragment; {example}")
    scheme = parts.scheme.lower()
    hostport = parts.netloc.rsplit(":", 1)[0] if port is not None else parts.netloc
    if port is None and parts.netloc.endswith(":"):
        raise ConfigError(f"{PUBLIC_URL}: {text!r} has an empty port; {example}")
    split = split_host(hostport)
    if split is None:
        raise ConfigError(f"{PUBLIC_URL}: {text!r} does not name a valid host; {example}")
    host = split[0]
    default = {"http": 80, "https": 443}[scheme]
    netloc = host if port in (None, default) else f"{host}:{port}"
    path = parts.path.rstrip("/")
    if path and not re.fullmatch(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]+)+", path):
        raise ConfigError(f"{PUBLIC_URL}: {text!r} has a path that is not a plain URL path; {example}")
    return PublicURL(scheme, netloc, host, path)


def parse_trusted_hosts(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        value = " ".join(str(v) for v in value)
    hosts = []
    for entry in re.split(r"[\s,]+", str(value).strip()):
        if not entry:
            continue
        split = split_host(entry)
        if split is None or split[1] is not None:
            raise ConfigError(f"{TRUSTED_HOSTS}: {entry!r} is not a host name; write names such as "
                              "maps.example.org or 10.0.0.5 (no scheme, port or path), separated by "
                              "spaces or commas")
        hosts.append(split[0])
    return tuple(dict.fromkeys(hosts))


def parse_proxy_fix(value: object) -> int:
    text = str(value).strip() if value is not None else ""
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_PROXIES:
        raise ConfigError(f"{PROXY_FIX}: {text!r} is not a number of proxies; write how many proxies "
                          f"in front set X-Forwarded-For and X-Forwarded-Proto (1 for one nginx), "
                          f"from 0 to {MAX_PROXIES}, or leave it unset")
    return int(text)


@dataclass(frozen=True)
class Origins:
    public: PublicURL | None
    hosts: frozenset[str]     # the host names requests may name (any port)

    def check(self, host_header: str) -> tuple[str, int | None]:
        """The request's (host, port) if this site answers for it; UntrustedHost if not."""
        split = split_host(host_header)
        if split is None:
            raise UntrustedHost(Message(N_("The request's Host header is not a valid host name.")))
        if split[0] not in self.hosts:
            raise UntrustedHost(Message(N_(
                "This site does not answer for the host this request was sent to. Its operator "
                "lists the names it answers for in GEOMAP_PUBLIC_URL and GEOMAP_TRUSTED_HOSTS.")))
        return split


def from_config(config) -> Origins:
    public = parse_public_url(config.get(PUBLIC_URL))
    trusted = set(LOOPBACK) | set(parse_trusted_hosts(config.get(TRUSTED_HOSTS)))
    if public:
        trusted.add(public.host)
    return Origins(public, frozenset(trusted))


def register(app: Flask) -> None:
    """Read the settings once (ConfigError at start-up), check every request's Host first."""
    origins = from_config(app.config)
    app.extensions["geomap.origins"] = origins
    proxies = parse_proxy_fix(app.config.get(PROXY_FIX))
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the headers the README's proxy sets itself: a client-sent X-Forwarded-Host or
        # -Prefix would pass through it unchanged, so those are never believed.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=0,
                                x_port=0, x_prefix=0)

    @app.before_request
    def check_host() -> None:
        origins.check(request.host)


# -- absolute URLs ---------------------------------------------------------------------------------

def base_url() -> str:
    """The site's absolute root URL, ending in "/": GEOMAP_PUBLIC_URL, else this request's
    scheme and checked host. Safe in a cache key: it is one of a fixed set of values."""
    origins: Origins = current_app.extensions["geomap.origins"]
    if origins.public:
        return origins.public.base
    host, port = origins.check(request.host)
    scheme = request.scheme if request.scheme in ("http", "https") else "http"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}{request.script_root}/"


def absolute(path: str) -> str:
    """An absolute URL for a path of this app (as url_for gives it: with the script root)."""
    root = request.script_root
    if root and (path == root or path.startswith(root + "/") or path.startswith(root + "?")):
        path = path[len(root):]
    return base_url() + path.lstrip("/")


def external_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) as an absolute URL: use this, never _external=True or
    request.host_url."""
    return absolute(url_for(endpoint, **values))
