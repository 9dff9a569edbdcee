"""A unit's compliance page: the figures against their thresholds, children with links and charts,
and the teachers behind each shortfall by name, on every backend."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from service.app import TrainRec
from tests.service.pages.conftest import sign_in


def test_a_county_page_shows_its_figures_and_drills_down_to_its_towns(browser: TestClient) -> None:
    sign_in(browser, "county")
    page = browser.get("/units/C1", params={"year": 2024})
    assert page.status_code == 200, page.text
    text = page.text
    assert "示范县" in text
    assert "2024 年度" in text
    assert "在册教师 6 人" in text
    # nothing recorded: every average is 0 h, short; nothing overdue, met; no enrolment, so no
    # participation rate at all: no data, neither met nor short
    assert text.count('class="figure short"') == 6
    assert text.count('class="figure met"') == 2
    assert text.count('class="figure plain"') == 1
    assert "无数据" in text
    assert "人均学时" in text
    assert "0 学时" in text
    assert 'href="/units/T1?year=2024"' in text
    assert 'href="/units/T2?year=2024"' in text
    assert "城关镇" in text
    assert "河西镇" in text
    assert text.count('class="bars"') == 9  # one chart per figure


def test_a_school_page_names_the_teachers_behind_each_shortfall(browser: TestClient) -> None:
    sign_in(browser, "s1")
    page = browser.get("/units/S1", params={"year": 2024})
    assert page.status_code == 200
    for no, name in (("A001", "张伟"), ("A002", "王芳"), ("A003", "李娜")):
        assert f'href="/teachers/{no}"' in page.text
        assert name in page.text
    assert "刘洋" not in page.text  # S2's
    assert page.text.count('<td data-label="学校">城关第一小学</td>') >= 3  # the school by name, not S1
    assert 'class="bars"' not in page.text  # a school has no children to chart


def test_a_town_supervisor_cannot_open_the_county_page(browser: TestClient) -> None:
    sign_in(browser, "town1")
    assert browser.get("/units/T1").status_code == 200
    refused = browser.get("/units/C1")
    assert refused.status_code == 403
    assert "超出您的权限范围" in refused.text


def test_the_year_chooser_offers_the_years_around_the_one_shown(browser: TestClient, county: TrainRec) -> None:
    sign_in(browser, "county")
    page = browser.get("/units/C1", params={"year": 2024})
    years = re.findall(r'<option value="(\d{4})"( selected)?>', page.text)
    assert [y for y, _ in years] == ["2020", "2021", "2022", "2023", "2024", "2025"]
    assert [y for y, chosen in years if chosen] == ["2024"]


def test_a_long_shortfall_links_to_every_teacher_behind_it(browser: TestClient, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    monkeypatch.setattr("projections.reports.SHORTFALL_PAGE", 2)
    monkeypatch.setattr("service.pages.routes_units.PAGE", 4)
    sign_in(browser, "county")
    page = browser.get("/units/C1", params={"year": 2024})
    assert "查看全部 6 人" in page.text
    link = re.search(r'href="(/units/C1/shortfalls\?rule=avg_hours_per_teacher[^"]*)"', page.text)
    assert link is not None
    first = browser.get(link[1].replace("&amp;", "&"))
    assert first.status_code == 200
    everyone = ("张伟", "王芳", "李娜", "刘洋", "陈静", "欧阳娜娜")
    assert [n for n in everyone if n in first.text] == ["张伟", "王芳", "李娜", "刘洋"]
    following = re.search(r'href="(/units/C1/shortfalls\?[^"]*after=[^"]*)"', first.text)
    assert following is not None
    second = browser.get(following[1].replace("&amp;", "&"))
    assert "陈静" in second.text
    assert "欧阳娜娜" in second.text
    assert "下一页" not in second.text
    assert '<td data-label="学校">河西小学</td>' in second.text  # C001's school (S3) by name


def test_the_charts_and_the_childrens_table_show_each_towns_figures_escaped(browser: TestClient) -> None:
    sign_in(browser, "county")
    text = browser.get("/units/C1", params={"year": 2024}).text
    # T1 (3 + 1 teachers, nothing recorded): an average of 0 h, short of 80, in the table and the chart
    assert re.search(r'<tr><td data-label="单位"><a href="/units/T1\?year=2024">城关镇</a></td><td class="num" '
                     r'data-label="人均学时"><span class="badge short">0 学时</span></td>', text)
    assert re.search(r'<a href="/units/T1\?year=2024">城关镇</a><div class="bar"><span class="short" '
                     r'style="width: 0.0%"></span><i style="left: 100.0%"></i></div><span class="num">0 学时</span>',
                     text)


def test_the_long_rows_are_escaped_as_the_template_would() -> None:
    from service.pages.unit_rows import chart_bars, children_rows, teacher_rows

    child = {"org_id": "T<1>", "name": "<b>镇</b>", "figures": [
        {"rule": "avg_hours_per_teacher", "value": 12.5, "met": True}]}
    row = str(children_rows([child], 2024))
    assert "&lt;b&gt;镇&lt;/b&gt;" in row
    assert 'href="/units/T&lt;1&gt;?year=2024"' in row
    assert '<span class="badge met">12.5 学时</span>' in row
    bar = {"org_id": "T<1>", "name": "<i>x</i>", "met": False, "width": 40.0, "shown": "<5>"}
    drawn = str(chart_bars([bar], 0.0, 2024))
    assert "&lt;i&gt;x&lt;/i&gt;" in drawn
    assert "&lt;5&gt;" in drawn
    assert "<i style" not in drawn  # no threshold mark on a chart of counts
    listed = str(teacher_rows([{"teacher_no": "A<1", "name": "<王>", "school_id": "S&1"}], {}))
    assert 'href="/teachers/A&lt;1"' in listed
    assert "&lt;王&gt;" in listed
    assert '<td data-label="学校">S&amp;1</td>' in listed  # a school without a name: its id


def test_the_export_link_of_a_unit_page_downloads_the_workbook_with_the_session_cookie(browser: TestClient) -> None:
    """The page links straight to the API's workbook: a GET with the page's session cookie (no CSRF
    token: a safe method) is answered, within the same scope as the page."""
    import io

    from openpyxl import load_workbook

    sign_in(browser, "town1")
    page = browser.get("/units/T1", params={"year": 2024})
    link = re.search(r'href="([^"]+compliance\.xlsx[^"]*)"[^>]*>导出 Excel<', page.text)
    assert link is not None
    assert link[1] == "/api/v1/orgs/T1/compliance.xlsx?year=2024"
    answer = browser.get(link[1].replace("&amp;", "&"))
    assert answer.status_code == 200, answer.text
    workbook = load_workbook(io.BytesIO(answer.content))
    assert [row[1] for row in workbook["汇总"].iter_rows(min_row=2, values_only=True)] == ["城关镇", "城关第一小学",
                                                                                        "城关中学"]
    assert browser.get("/api/v1/orgs/C1/compliance.xlsx?year=2024").status_code == 403  # above the town
