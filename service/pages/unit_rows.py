"""The long parts of a unit's page, written here rather than in its template: a county of 100 towns
has 900 cells in its children's table, 900 bars in its charts and 450 teachers behind its
shortfalls, which cost Jinja2 some 40 ms a page (three nested generators yield each of 26,000
pieces) and cost these joins about 5 (`Markup.format` would cost 40 again). Every value from the
answer passes through `escape`, as in the template; the rest is literal text of this file."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

from service.labels import RULES
from service.pages.render import figure_value


def children_rows(children: list[dict[str, Any]], year: int) -> Markup:
    """One table row per child unit: its name (a link to its page), then each figure met or short."""
    rows = []
    for child in children:
        cells = "".join(
            f'<td class="num" data-label="{escape(RULES.get(f["rule"], f["rule"]))}"><span class="badge '
            f'{"met" if f["met"] else "short"}">{escape(figure_value(f["rule"], f["value"]))}</span></td>'
            for f in child["figures"])
        rows.append(f'<tr><td data-label="单位"><a href="/units/{escape(child["org_id"])}?year={int(year)}">'
                    f'{escape(child.get("name") or child["org_id"])}</a></td>{cells}</tr>')
    return Markup("\n".join(rows))  # noqa: S704 - every value above is escaped


def chart_bars(bars: list[dict[str, Any]], mark: float, year: int) -> Markup:
    """A chart's bars: each child's name (a link), its bar with the threshold's mark, its value."""
    tick = f'<i style="left: {float(mark)}%"></i>' if mark else ""
    return Markup("\n".join(  # noqa: S704 - every value is escaped or a number
        f'<a href="/units/{escape(bar["org_id"])}?year={int(year)}">{escape(bar["name"])}</a>'
        f'<div class="bar"><span class="{"met" if bar["met"] else "short"}" style="width: {float(bar["width"])}%">'
        f'</span>{tick}</div><span class="num">{escape(bar["shown"])}</span>'
        for bar in bars))


def teacher_rows(teachers: list[dict[str, Any]], school_names: dict[str, str]) -> Markup:
    """One table row per teacher behind a shortfall: 工号 (a link to their page), 姓名, 学校 by name."""
    return Markup("\n".join(  # noqa: S704 - every value is escaped
        f'<tr><td data-label="工号"><a href="/teachers/{escape(t["teacher_no"])}">{escape(t["teacher_no"])}</a></td>'
        f'<td data-label="姓名">{escape(t["name"] or "")}</td>'
        f'<td data-label="学校">{escape(school_names.get(t["school_id"]) or t["school_id"])}</td></tr>'
        for t in teachers))
