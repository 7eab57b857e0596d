# gunicorn reads this file when started from this directory (or with --config gunicorn.conf.py).
#
# Forwarded headers are the app's business: it believes X-Forwarded-For and -Proto only when
# GEOMAP_PROXY_FIX says how many proxies set them (README "Configuration"). By default gunicorn
# itself would take X-Forwarded-Proto, and SCRIPT_NAME / PATH_INFO headers, from any client on
# 127.0.0.1 or a unix socket, which then turns up in the absolute URLs pages carry.
forwarded_allow_ips = ""
secure_scheme_headers = {}
forwarder_headers = ""


def on_starting(server):
    """Before any worker starts, build the app once in a separate process (its memory goes with
    it). Broken data or a bad setting then stops gunicorn here, with the problem lines and no
    traceback: otherwise every worker prints them, and gunicorn 27 itself raises a traceback when
    two workers fail to boot at once."""
    import subprocess
    import sys

    module = server.app.app_uri.split(":")[0]
    check = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=server.cfg.chdir)
    if check.returncode != 0:
        sys.exit(check.returncode)
