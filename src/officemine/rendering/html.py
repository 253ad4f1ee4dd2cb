"""The HTML index of a set of monthly reviews (``index.html`` of ``report --all-months``)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from officemine.base.text import in_lang, say
from officemine.kpis import KPIS


def index_page(rows: list[dict], lang: str, keys: Sequence[str]) -> str:
    """The HTML index of a set of reviews: month, the headline figures `keys` (named in
    `lang`), files."""
    names = {k.key: (k.zh if lang == "zh" else k.en) for k in KPIS}
    title = say("review.titles", lang)
    heads = [say("review.index_month", lang), *(names[k] for k in keys),
             say("review.index_files", lang)]
    head = "".join(f"<th>{html.escape(h)}</th>" for h in heads)
    body = []
    for r in rows:
        cells = [f"<td>{html.escape(r['month'])}</td>"]
        if r["has_data"]:
            cells += [f"<td>{html.escape(str(r.get(k, '—')))}</td>" for k in keys]
        else:
            message = in_lang(r["message"], lang)
            cells.append(f"<td colspan='{len(keys)}'>{html.escape(message)}</td>")
        links = " ".join(f"<a href='{html.escape(r[k])}'>{k.upper()}</a>"
                         for k in ("pdf", "xlsx", "json") if k in r)
        cells.append(f"<td>{links}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<!doctype html><html lang='{lang}'><meta charset='utf-8'><title>{title}</title>"
            f"<h1>{title}</h1><table border='1' cellpadding='4'><tr>{head}</tr>"
            + "".join(body) + "</table></html>")
