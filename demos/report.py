"""Write the sections as one `index.html`: inline CSS, images by relative path, no scripts
or fonts from anywhere else."""

from __future__ import annotations

import platform
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from minigrad.viz import viewer_fragment

from .common import Section, esc, fmt

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto;
       max-width: 1100px; padding: 1em 2em 4em; color: #1d1d1f; line-height: 1.5; }
h1 { margin-bottom: 0.2em; }
h2 { border-bottom: 2px solid #d0d7de; padding-bottom: 0.2em; margin-top: 2.2em; }
h3 { margin-bottom: 0.3em; }
.meta { color: #57606a; font-size: 0.92em; }
table { border-collapse: collapse; margin: 0.6em 0 1.2em; font-size: 0.92em; }
th, td { border: 1px solid #d0d7de; padding: 0.25em 0.7em; text-align: left;
         vertical-align: top; }
th { background: #f6f8fa; }
td.num { font-family: ui-monospace, Menlo, Consolas, monospace; text-align: right; }
figure { margin: 1em 0; }
figure img { max-width: 100%; border: 1px solid #eaeef2; }
figcaption { color: #57606a; font-size: 0.9em; }
pre { background: #f6f8fa; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
.summary { background: #fff8c5; padding: 0.5em 0.8em; border-left: 4px solid #d4a72c; }
.settings td { font-size: 0.9em; }
table.verdicts td.outcome { font-weight: 600; white-space: nowrap; }
td.supported { background: #dafbe1; }
td.not-supported { background: #ffebe9; }
td.cannot-tell { background: #fff8c5; }
nav ol { columns: 2; }
"""


def _table(header: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = []
        for c in row:
            numeric = isinstance(c, int | float | np.integer | np.floating) \
                and not isinstance(c, bool)
            cells.append(f'<td class="num">{esc(fmt(c))}</td>' if numeric
                         else f"<td>{esc(fmt(c))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cls_attr = f' class="{cls}"' if cls else ""
    return f"<table{cls_attr}><tr>{head}</tr>{''.join(body)}</table>"


def verdicts_html(s: Section) -> str:
    """The section's verdicts: the claim, the measured effect with its 95% interval, the
    seeds, the smallest effect the set-up detects, and the outcome."""
    if not s.verdicts:
        return ""
    rows = []
    for v in s.verdicts:
        e = v.estimate
        cls = {"supported": "supported", "not supported": "not-supported"}.get(
            v.outcome, "cannot-tell")
        pairing = "paired" if v.paired else "unpaired"
        rows.append(
            f"<tr><td>{esc(v.claim)}</td><td>{esc(v.quantity)}</td>"
            f'<td class="num">{esc(str(e))}</td>'
            f"<td>{e.n} {pairing} ({esc(e.method)})</td>"
            f'<td class="num">{esc(v.detectable_text())}</td>'
            f'<td class="num">{esc(v.meaningful_text())}</td>'
            f'<td class="outcome {cls}">{esc(v.outcome)}</td></tr>')
    head = ("<tr><th>claim</th><th>measured</th><th>estimate [95% CI]</th><th>seeds</th>"
            "<th>smallest detectable effect (80% power)</th><th>smallest effect that matters"
            "</th><th>verdict</th></tr>")
    return ('<h3>Verdicts</h3><table class="verdicts">' + head + "".join(rows) + "</table>")


def section_html(s: Section, out_dir: Path | None = None) -> str:
    parts = [f'<section id="{esc(s.key)}">', f"<h2>{esc(s.key)}. {esc(s.title)}</h2>"]
    if s.summary:
        parts.append(f'<p class="summary">{esc(s.summary)}</p>')
    parts.append(verdicts_html(s))
    parts.append(s.html)
    for k, f in enumerate(s.figures):
        src = esc(f.path.as_posix())
        if f.path.suffix == ".svg" and out_dir is not None:
            # graphs: inline, in the pan/zoom viewer, readable on the part that matters
            svg = (out_dir / f.path).read_text(encoding="utf-8")
            img = viewer_fragment(svg, focus=f.focus, uid=f"{s.key}-g{k}")
        else:
            img = f'<a href="{src}"><img src="{src}" alt="{esc(f.caption)}"></a>'
        parts.append(f"<figure>{img}<figcaption>{esc(f.caption)} "
                     f'(<a href="{src}">open alone</a>)</figcaption></figure>')
    if s.links:
        items = "".join(f'<li><a href="{esc(Path(p).as_posix())}">{esc(t)}</a></li>'
                        for p, t in s.links)
        parts.append(f"<h3>Open</h3><ul>{items}</ul>")
    parts.append("<h3>Measured numbers</h3>")
    parts.append(_table(["quantity", "value"], list(s.numbers.items())))
    for t in s.tables:
        parts.append(f"<h3>{esc(t.title)}</h3>")
        parts.append(_table(t.header, t.rows))
    parts.append("<h3>Seeds and settings</h3>")
    parts.append(_table(["setting", "value"], list(s.settings.items()), "settings"))
    parts.append(f'<p class="meta">This section took {s.elapsed:.1f} s.</p></section>')
    return "\n".join(parts)


def write_report(sections: Sequence[Section], out_dir: Path, meta: dict[str, Any]) -> Path:
    """Write out_dir/index.html for `sections`; `meta` is shown at the top (mode, seed, ...)."""
    nav = "".join(f'<li><a href="#{esc(s.key)}">{esc(s.title)}</a></li>' for s in sections)
    overview = _table(["demo", "what we measured", "time (s)"],
                      [[f"{s.key}. {s.title}", s.summary, round(s.elapsed, 1)]
                       for s in sections])
    meta = dict(meta)
    meta.setdefault("python", platform.python_version())
    meta.setdefault("numpy", np.__version__)
    meta_rows = _table(["run", "value"], list(meta.items()), "settings")
    body = "\n".join(section_html(s, out_dir) for s in sections)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>minigrad demos: why does batch norm work?</title>
<style>{CSS}</style></head>
<body>
<h1>Why does batch norm work? Measured with minigrad</h1>
<p>Each section below takes one claim about batch normalisation, builds the measurement that
makes it visible with minigrad (an autograd engine written from scratch on numpy), and reports
what came out, including where the measurement does not support the claim. Every number comes
with the seed and the settings that made it; rerun <code>python -m demos</code> to get the same
numbers again.</p>
<p><b>How to read the numbers.</b> Every comparison runs both variants on the same seeds
(the same initial weights and the same mini-batches; 10 seeds in a full run, 3 with
<code>--quick</code>) and works on the per-seed differences (or ratios, on a log scale).
A number written <code>m [lo, hi]</code> is a mean with its 95% confidence interval (Student's
t over the seeds); curves carry 95% bands. Each claim gets a verdict from its interval:
<i>supported</i> when the whole interval lies on the side the claim predicts, <i>not
supported</i> when it lies on the other side or rules out every effect as large as the smallest
one that matters (one percentage point of accuracy, a factor of 1.1 for a ratio, one probe
interval for a step count), and <i>this set-up cannot tell</i> otherwise. Each verdict also
states the smallest effect the set-up could have detected (80% power at the 5% level).</p>
<p>Papers cited: S. Ioffe and C. Szegedy, <i>Batch Normalization: Accelerating Deep Network
Training by Reducing Internal Covariate Shift</i>, ICML 2015 (arXiv:1502.03167); S. Santurkar,
D. Tsipras, A. Ilyas and A. Madry, <i>How Does Batch Normalization Help Optimization?</i>,
NeurIPS 2018 (arXiv:1805.11604).</p>
<nav><ol>{nav}</ol></nav>
<h2>Overview</h2>
{overview}
{meta_rows}
{body}
</body></html>
"""
    path = out_dir / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
