# gunicorn reads this file when started from this directory (or with --config gunicorn.conf.py).
#
# Forwarded headers are the app's business: it believes X-Forwarded-For and -Proto only when
# GEOMAP_PROXY_FIX says how many proxies set them (README "Configuration"). By default gunicorn
# itself would take X-Forwarded-Proto, and SCRIPT_NAME / PATH_INFO headers, from any client on
# 127.0.0.1 or a unix socket, which then turns up in the absolute URLs pages carry.
forwarded_allow_ips = ""
secure_scheme_headers = {}
forwarder_headers = ""
