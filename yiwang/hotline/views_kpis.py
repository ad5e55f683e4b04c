"""The hotline's figures pages: the key figures (三率) with their Excel export, and the
hotspots. For supervisors, city leaders and dispatchers. Thin: yiwang.hotline.kpis and
yiwang.hotline.hotspots compute; this module reads the period from the query string and
draws the charts as inline SVG (the intranet has no CDN)."""

from __future__ import annotations

import datetime
from functools import wraps
from io import BytesIO

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.hotline import hotspots as hotspot_figures
from yiwang.hotline import kpis
from yiwang.hotline.kpis import KpiRow, Period

DEFAULT_DAYS = 30
MAX_DAYS = 366
PRESETS = (7, 30, 90)
BAR_WIDTH = 300


def figures_required(view):
    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not kpis.access_hotline_figures(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapper


def _date(text: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def period_from_query(query) -> tuple[Period, str]:
    """The period of `?from=…&to=…` (local days, both included) or `?days=N` (the last N days
    up to today); the last 30 days when absent. Returns the period and a notice when the
    request asked for something unusable."""
    today = timezone.localdate()
    notice = ""
    first, last = _date(query.get("from")), _date(query.get("to"))
    if first or last:
        last = last or today
        first = first or last - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if first > last:
            first, last = last, first
        if (last - first).days + 1 > MAX_DAYS:
            first = last - datetime.timedelta(days=MAX_DAYS - 1)
            notice = _("A period is at most %d days; showing the last %d days of it.") % (MAX_DAYS, MAX_DAYS)
        return Period(first, last), notice
    days = query.get("days", "")
    count = int(days) if days.isdigit() and 0 < int(days) <= MAX_DAYS else DEFAULT_DAYS
    if days and str(count) != days:
        notice = _("Unknown period “%s”: showing the last 30 days.") % days[:20]
    return Period(today - datetime.timedelta(days=count - 1), today), notice


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _bars(rows: list[KpiRow], attribute: str, *, rate: bool = False, limit: int = 15) -> dict:
    """A horizontal bar chart as inline SVG geometry (one bar per row)."""
    values = [(row.label, getattr(row, attribute)) for row in rows[:limit]]
    values = [(label, value) for label, value in values if value is not None]
    top = 1.0 if rate else (max((value for _label, value in values), default=0) or 1)
    bars = [
        {
            "label": label,
            "value": percent(value) if rate else value,
            "width": max(1, round(BAR_WIDTH * value / top)),
            "y": index * 22,
        }
        for index, (label, value) in enumerate(values)
    ]
    return {"bars": bars, "height": len(bars) * 22 + 4}


TREND_WIDTH, TREND_HEIGHT, TREND_LEFT, TREND_TOP = 640, 200, 40, 10
TREND_SERIES = (
    ("response_rate", "#1f7a3f"),
    ("resolution_rate", "#1f5fa8"),
    ("satisfaction_rate", "#b8860b"),
)


def _trend(weeks: list[KpiRow]) -> dict:
    """Tickets received per week (bars, left scale) and the three rates (lines, 0–100%, right
    scale), as inline SVG geometry."""
    if not weeks:
        return {"columns": [], "lines": []}
    plot_width = TREND_WIDTH - 2 * TREND_LEFT
    step = plot_width / len(weeks)
    top = max((week.received for week in weeks), default=0) or 1
    columns = []
    for index, week in enumerate(weeks):
        height = round(TREND_HEIGHT * week.received / top, 1)
        columns.append(
            {
                "x": round(TREND_LEFT + index * step + step * 0.15, 1),
                "width": round(step * 0.7, 1),
                "y": round(TREND_TOP + TREND_HEIGHT - height, 1),
                "height": height,
                "label": week.label[5:] if week.label else "",
                "label_x": round(TREND_LEFT + index * step + step / 2, 1),
                "received": week.received,
            }
        )
    lines = []
    for attribute, colour in TREND_SERIES:
        points = []
        for index, week in enumerate(weeks):
            value = getattr(week, attribute)
            if value is not None:
                x = TREND_LEFT + index * step + step / 2
                y = TREND_TOP + TREND_HEIGHT * (1 - value)
                points.append(f"{x:.1f},{y:.1f}")
        lines.append({"attribute": attribute, "colour": colour, "points": " ".join(points)})
    return {
        "columns": columns,
        "lines": lines,
        "top": top,
        "width": TREND_WIDTH,
        "height": TREND_HEIGHT + TREND_TOP + 30,
        "baseline": TREND_TOP + TREND_HEIGHT,
        "right": TREND_WIDTH - TREND_LEFT,
        "label_y": TREND_TOP + TREND_HEIGHT + 16,
        "top_y": TREND_TOP,
        "middle_y": TREND_TOP + TREND_HEIGHT / 2,
    }


def _table(rows: list[KpiRow]) -> list[dict]:
    return [
        {
            "row": row,
            "response_rate": percent(row.response_rate),
            "resolution_rate": percent(row.resolution_rate),
            "satisfaction_rate": percent(row.satisfaction_rate),
        }
        for row in rows
    ]


@figures_required
def kpi_page(request):
    period, notice = period_from_query(request.GET)
    report = kpis.kpi_report(period=period)
    total = report.total
    return render(
        request,
        "hotline/kpis.html",
        {
            "period": period,
            "notice": notice,
            "presets": PRESETS,
            "report": report,
            "total": total,
            "figures": [
                (
                    "response-rate",
                    _("Response rate"),
                    percent(total.response_rate),
                    total.responded_in_time,
                    total.response_due,
                ),
                (
                    "resolution-rate",
                    _("Resolution rate"),
                    percent(total.resolution_rate),
                    total.resolved_in_time,
                    total.resolution_due,
                ),
                (
                    "satisfaction-rate",
                    _("Satisfaction rate"),
                    percent(total.satisfaction_rate),
                    total.satisfied,
                    total.rated,
                ),
            ],
            "groupings": [
                ("department", _("By department"), _table(report.by_department)),
                ("town", _("By town"), _table(report.by_town)),
                ("week", _("By week"), _table(report.by_week)),
            ],
            "trend": _trend(report.by_week),
            "received_bars": _bars(report.by_department, "received"),
            "resolution_bars": _bars(report.by_department, "resolution_rate", rate=True),
            "town_bars": _bars(sorted(report.by_town, key=lambda row: -row.received), "received"),
            "definitions": kpis.DEFINITIONS,
            "query": request.GET.urlencode(),
        },
    )


EXPORT_COLUMNS = (
    ("received", gettext_lazy("Received")),
    ("merged", gettext_lazy("Merged duplicates")),
    ("response_due", gettext_lazy("Dispatched (response due)")),
    ("responded_in_time", gettext_lazy("Accepted in time")),
    ("response_rate", gettext_lazy("Response rate")),
    ("resolution_due", gettext_lazy("Due in the period")),
    ("resolved_in_time", gettext_lazy("Replied in time")),
    ("replied_late", gettext_lazy("Replied late")),
    ("resolution_rate", gettext_lazy("Resolution rate")),
    ("rated", gettext_lazy("Rated")),
    ("satisfied", gettext_lazy("Satisfied or basically satisfied")),
    ("satisfaction_rate", gettext_lazy("Satisfaction rate")),
    ("overdue_open", gettext_lazy("Overdue, open")),
    ("returned", gettext_lazy("Returned")),
    ("reopened", gettext_lazy("Reopened")),
)


def kpi_workbook(report: kpis.KpiReport) -> bytes:
    """The report as an .xlsx: one sheet per grouping with the same figures as the page (rates
    as numbers formatted as percentages), and a sheet of definitions."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    book.remove(book.active)
    headers = [str(label) for _attribute, label in EXPORT_COLUMNS]
    period_text = f"{report.period.first.isoformat()} – {report.period.last.isoformat()}"
    for title, label_header, rows in (
        (_("By department"), _("Department"), report.by_department),
        (_("By town"), _("Town"), report.by_town),
        (_("By week"), _("Week (Monday)"), report.by_week),
    ):
        sheet = book.create_sheet(title[:31])
        sheet.append([_("Period"), period_text])
        sheet.append([label_header, *headers])
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for row in [*rows, report.total]:
            values = [getattr(row, attribute) for attribute, _label in EXPORT_COLUMNS]
            sheet.append([row.label, *values])
            for column, (attribute, _label) in enumerate(EXPORT_COLUMNS, start=2):
                if attribute.endswith("_rate"):
                    sheet.cell(row=sheet.max_row, column=column).number_format = "0.0%"
        sheet.column_dimensions["A"].width = 24
    notes = book.create_sheet(_("Definitions")[:31])
    notes.append([_("Period"), period_text])
    notes.append([_("Computed at"), timezone.localtime(report.now).strftime("%Y-%m-%d %H:%M")])
    for term, definition in kpis.DEFINITIONS:
        notes.append([str(term), str(definition)])
    notes.column_dimensions["A"].width = 18
    notes.column_dimensions["B"].width = 110
    buffer = BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@figures_required
def kpi_export(request):
    period, _notice = period_from_query(request.GET)
    report = kpis.kpi_report(period=period)
    response = HttpResponse(
        kpi_workbook(report),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    name = f"hotline-kpis-{period.first.isoformat()}-{period.last.isoformat()}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


SPARK_WIDTH, SPARK_HEIGHT = 96, 24


def _sparkline(counts: list[int]) -> dict:
    """Counts oldest → newest as a polyline that fits a 96×24 box."""
    top = max(counts, default=0) or 1
    margin = 3  # room for the end dot
    step = (SPARK_WIDTH - 2 * margin) / max(len(counts) - 1, 1)
    points = [
        (
            round(margin + index * step, 1),
            round(SPARK_HEIGHT - margin - (SPARK_HEIGHT - 2 * margin) * count / top, 1),
        )
        for index, count in enumerate(counts)
    ]
    last = points[-1] if points else (0, SPARK_HEIGHT)
    return {
        "points": " ".join(f"{x},{y}" for x, y in points),
        "last_x": last[0],
        "last_y": last[1],
        "width": SPARK_WIDTH,
        "height": SPARK_HEIGHT,
    }


@figures_required
def hotspot_page(request):
    today = timezone.localdate()
    last = _date(request.GET.get("to")) or today
    days = request.GET.get("days", "")
    length = int(days) if days.isdigit() and 1 <= int(days) <= 31 else hotspot_figures.PERIOD_DAYS
    minimum = request.GET.get("min", "")
    least = int(minimum) if minimum.isdigit() and int(minimum) >= 1 else hotspot_figures.MIN_TICKETS
    result = hotspot_figures.hotspots(last_day=last, days=length, minimum=least)
    rows = [
        {"hotspot": hotspot, "spark": _sparkline(hotspot.counts), "change": hotspot.change_text}
        for hotspot in result.hotspots
    ]
    return render(
        request,
        "hotline/hotspots.html",
        {
            "result": result,
            "rows": rows,
            "days": length,
            "minimum": least,
            "last": last,
        },
    )


kpi_urlpatterns = [
    path("kpis/", kpi_page, name="kpis"),
    path("kpis/export.xlsx", kpi_export, name="kpis_export"),
    path("hotspots/", hotspot_page, name="hotspots"),
]
