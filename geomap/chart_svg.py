"""Draw a charts.Chart as SVG markup on the server: zero bytes of chart library in the page.

Each SVG is a picture with a text alternative (role="img", <title> and <desc> giving every
value); what a visitor clicks is HTML laid over it (templates/_charts.html), since the
children of an image are not controls. Every text is escaped (markupsafe), numbers are
formatted by charts.py in the page's locale, colours are the map legend's.

Two drawings:
- years(): the per-year histogram, stacked by family, that is also the timeline's track. Its
  viewBox stretches to the track (preserveAspectRatio="none"): it holds no text, and its year
  slots are equal, so the HTML year buttons laid over it line up at any width.
- ranked(): bars ranked by value, each row a label and its number printed above a bar whose
  length is a percentage of the width, so text keeps its size whatever the width.
"""
from __future__ import annotations

from markupsafe import Markup

from .charts import Chart

SLOT = 10          # viewBox units per year in the histogram
PLOT_HEIGHT = 40   # viewBox units; the CSS decides the rendered height
ROW = 30           # px per ranked bar: label line, then the bar
BAR = 8            # px, the ranked bar's thickness
MAX_BARS = 8       # ranked bars drawn; the rest are named in a last line, and all are in the text
TRACK = "#e6eaef"  # the ranked bars' background track
INK = "#1d232b"    # text
BAR_COLOR = "#2166ac"


def _ids(chart: Chart, prefix: str) -> tuple[str, str]:
    return f"{prefix}-{chart.key}-title", f"{prefix}-{chart.key}-desc"


def _head(chart: Chart, prefix: str, title: str | None = None) -> Markup:
    tid, did = _ids(chart, prefix)
    return Markup('<title id="{}">{}</title><desc id="{}">{}</desc>').format(
        tid, title or chart.title, did, chart.describe())


def years(chart: Chart, prefix: str = "gm-chart", title: str | None = None) -> Markup:
    """The histogram: one slot per year, its bar stacked by family from the bottom."""
    n = max(len(chart.bars), 1)
    width = n * SLOT
    top = max((b.value for b in chart.bars), default=0) or 1
    tid, did = _ids(chart, prefix)
    out = [Markup('<svg class="gm-chart-svg gm-years-svg" role="img" aria-labelledby="{} {}" '
                  'viewBox="0 0 {} {}" preserveAspectRatio="none" focusable="false" '
                  'xmlns="http://www.w3.org/2000/svg">').format(tid, did, width, PLOT_HEIGHT),
           _head(chart, prefix, title),
           Markup('<rect class="gm-baseline" x="0" y="{}" width="{}" height="0.6" fill="#9aa5b1"/>').format(
               PLOT_HEIGHT - 0.6, width)]
    for i, bar in enumerate(chart.bars):
        out.append(Markup('<g class="gm-year" data-year="{}">').format(bar.key))
        y = float(PLOT_HEIGHT)
        for seg in bar.segments:
            if not seg.value:
                continue
            h = PLOT_HEIGHT * 0.96 * seg.value / top
            y -= h
            out.append(Markup('<rect x="{}" y="{:.3f}" width="{}" height="{:.3f}" fill="{}" '
                              'data-family="{}"/>').format(i * SLOT + 1.5, y, SLOT - 3, h, seg.color, seg.key))
        out.append(Markup("</g>"))
    out.append(Markup("</svg>"))
    return Markup("").join(out)


def ranked(chart: Chart, prefix: str = "gm-chart", color: str = BAR_COLOR, more: str = "") -> Markup:
    """Ranked bars: per row the label (left) and number (right), then the bar beneath. Past
    MAX_BARS, `more` ("and 7 more") is the last line; <desc> still names every bar."""
    rows = min(len(chart.bars), MAX_BARS)
    height = max(rows, 1) * ROW + (ROW * 2 // 3 if more and len(chart.bars) > MAX_BARS else 0)
    top = max((b.value for b in chart.bars), default=0) or 1
    tid, did = _ids(chart, prefix)
    out = [Markup('<svg class="gm-chart-svg gm-ranked-svg" role="img" aria-labelledby="{} {}" '
                  'width="100%" height="{}" focusable="false" xmlns="http://www.w3.org/2000/svg">').format(
               tid, did, height),
           _head(chart, prefix)]
    for i, bar in enumerate(chart.bars[:MAX_BARS]):
        y = i * ROW
        share = max(100 * bar.value / top, 0.5)
        out.append(Markup(
            '<g class="gm-rank" data-key="{key}">'
            '<text x="0" y="{ty}" fill="{ink}" class="gm-rank-label">{label}</text>'
            '<text x="100%" y="{ty}" fill="{ink}" text-anchor="end" class="gm-rank-value">{text}</text>'
            '<rect x="0" y="{by}" width="100%" height="{h}" rx="2" fill="{track}"/>'
            '<rect x="0" y="{by}" width="{w:.2f}%" height="{h}" rx="2" fill="{color}"/>'
            '</g>').format(key=bar.key, ty=y + 13, ink=INK, label=bar.label, text=bar.text,
                           by=y + 17, h=BAR, track=TRACK, w=share, color=color))
    if more and len(chart.bars) > MAX_BARS:
        out.append(Markup('<text x="0" y="{}" fill="{}" class="gm-rank-more">{}</text>').format(
            rows * ROW + 13, INK, more))
    out.append(Markup("</svg>"))
    return Markup("").join(out)
