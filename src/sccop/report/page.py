"""The report page's HTML pieces: style, tables (sortable by any column), images, the interactive 3D viewer
(3Dmol.js, embedded: the page fetches nothing) and a small script that starts the viewers, sorts tables
and records on the page what loaded (body data-viewers, data-images, data-images-ok, data-errors), so a
browser check can read it."""

from __future__ import annotations

import html
import json
from functools import lru_cache
from pathlib import Path

ASSETS = Path(__file__).parent / "assets"

STYLE = """body{font-family:system-ui,sans-serif;max-width:1180px;margin:1em auto;padding:0 1em;color:#222}
h1{font-size:1.6em}h2{margin-top:1.6em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:88%}td,th{border:1px solid #bbb;padding:3px 7px;text-align:right;white-space:nowrap}
th{background:#eee}table.sortable th{cursor:pointer}table.sortable th:after{content:" \\2195";color:#999}
table.facts td{text-align:left;white-space:normal}table.facts td:first-child{font-weight:600;white-space:nowrap}
table.facts thead{display:none}.scroll{overflow-x:auto;max-width:100%}
.cards{display:flex;flex-wrap:wrap;gap:14px}.card{border:1px solid #ccc;border-radius:6px;padding:8px;font-size:85%;
text-align:center;width:330px}.viewer{width:320px;height:300px;position:relative;margin:auto}
.legend span{display:inline-block;margin:2px 6px}.legend i{display:inline-block;width:11px;height:11px;
border:1px solid #555;border-radius:50%;vertical-align:middle;margin-right:3px}.none{color:#888}img{max-width:100%}
.note{color:#555;font-size:90%}"""

SCRIPT = r"""
window.sccopErrors = [];
window.addEventListener('error', function (e) { sccopErrors.push(String(e.message)); });
(function () { var original = console.error;
  console.error = function () { sccopErrors.push(Array.prototype.join.call(arguments, ' ')); original.apply(console, arguments); };
})();
function sccopSort(table, column, header) {
  var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
  var descending = header.dataset.order === 'asc';
  rows.sort(function (a, b) {
    var x = a.cells[column].textContent.trim(), y = b.cells[column].textContent.trim();
    var nx = parseFloat(x), ny = parseFloat(y);
    var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
    return descending ? -c : c;
  });
  rows.forEach(function (r) { body.appendChild(r); });
  header.dataset.order = descending ? 'desc' : 'asc';
}
function sccopViewer(el) {
  var data = JSON.parse(el.dataset.structure);
  var viewer = $3Dmol.createViewer(el, {backgroundColor: 'white'});
  if (!viewer) { return false; }
  var model = viewer.addModel(data.xyz, 'xyz');
  model.setStyle({}, {sphere: {scale: 0.28, colorscheme: 'Jmol'}, stick: {radius: 0.1, colorscheme: 'Jmol'}});
  var a = data.cell[0], b = data.cell[1], c = data.cell[2], o = [0, 0, 0];
  function add(p, q) { return [p[0] + q[0], p[1] + q[1], p[2] + q[2]]; }
  function point(p) { return {x: p[0], y: p[1], z: p[2]}; }
  var corners = [o, a, b, c, add(a, b), add(a, c), add(b, c), add(add(a, b), c)];
  var edges = [[0, 1], [0, 2], [0, 3], [1, 4], [1, 5], [2, 4], [2, 6], [3, 5], [3, 6], [4, 7], [5, 7], [6, 7]];
  edges.forEach(function (e) {
    viewer.addCylinder({start: point(corners[e[0]]), end: point(corners[e[1]]), radius: 0.03, color: '#444', fromCap: 1, toCap: 1});
  });
  viewer.zoomTo(); viewer.render();
  return true;
}
document.addEventListener('DOMContentLoaded', function () {
  document.querySelectorAll('table.sortable').forEach(function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener('click', function () { sccopSort(table, i, th); });
    });
  });
  var made = 0;
  document.querySelectorAll('.viewer').forEach(function (el) {
    var still = el.parentNode.querySelector('img.still');
    try {
      if (window.$3Dmol && sccopViewer(el)) { made += 1; if (still) { still.style.display = 'none'; } }
      else { el.style.display = 'none'; }
    } catch (e) { el.style.display = 'none'; sccopErrors.push('viewer: ' + e.message); }
  });
  document.body.dataset.viewers = made;
});
window.addEventListener('load', function () {
  var images = document.querySelectorAll('img'), ok = 0;
  images.forEach(function (img) { if (img.complete && img.naturalWidth > 0) { ok += 1; } });
  document.body.dataset.images = images.length;
  document.body.dataset.imagesOk = ok;
  document.body.dataset.errors = sccopErrors.length;
  document.body.dataset.errorText = sccopErrors.join(' | ').slice(0, 500);
  document.body.dataset.done = 'yes';
});
"""


@lru_cache(maxsize=1)
def viewer_library() -> str:
    """3Dmol.js (BSD-3-Clause, assets/3Dmol-LICENSE.txt), embedded in the page."""
    return (ASSETS / "3Dmol-min.js").read_text(encoding="utf-8")


def table(header: list[str], rows: list[list], *, sortable: bool = False, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    classes = " ".join(x for x in (("sortable" if sortable else ""), css) if x)
    return f"<div class='scroll'><table class='{classes}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def image(data: str | None, alt: str, css: str = "") -> str:
    if data is None:
        return f"<p class='none'>No data yet for {html.escape(alt)}.</p>"
    return f"<img class='{css}' alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


def viewer(data: dict) -> str:
    """A 3D viewer of one structure, with its element legend."""
    legend = "".join(f"<span><i style='background:{c}'></i>{html.escape(s)}</span>" for s, c in data["colours"].items())
    payload = html.escape(json.dumps({"xyz": data["xyz"], "cell": data["cell"]}), quote=True)
    return f"<div class='viewer' data-structure=\"{payload}\"></div><div class='legend'>{legend}</div>"


def page(title: str, parts: list[str]) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title><style>{STYLE}</style>"
            f"<script>{viewer_library()}</script><script>{SCRIPT}</script></head><body>{''.join(parts)}</body></html>")


__all__ = ["STYLE", "SCRIPT", "viewer_library", "table", "image", "viewer", "page"]
