"""Reading a results workbook's charts the way Excel finds them: workbook → sheet → its
drawing → the chart parts, each relationship followed and each content type checked, and the
cells each series names read back from the sheet. (Plain zip and XML, so a chart that only
our writer believes in does not pass.)"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree as ET

from openpyxl import load_workbook

NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "pr": "http://schemas.openxmlformats.org/package/2006/relationships",
    "ct": "http://schemas.openxmlformats.org/package/2006/content-types",
    "xdr": "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing",
    "c": "http://schemas.openxmlformats.org/drawingml/2006/chart",
    "a": "http://schemas.openxmlformats.org/drawingml/2006/main",
}
CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
DRAWING_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
_REF = re.compile(r"^'((?:[^']|'')+)'!\$([A-Z]+)\$(\d+)(?::\$([A-Z]+)\$(\d+))?$")


@dataclass
class Series:
    ref: str
    cached: list[Any]
    cells: list[Any]
    """The values of the cells ``ref`` names, read from the sheet."""


@dataclass
class Chart:
    title: str
    kind: str
    at: tuple[int, int]
    """(column, row) of the anchor's top-left cell, 0-based."""
    name: Series
    categories: Series
    values: Series
    axis_titles: list[str]


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """Relationship id → the target part's full name, for ``part``."""
    folder, name = posixpath.split(part)
    rels = ET.fromstring(z.read(f"{folder}/_rels/{name}.rels"))
    return {
        r.get("Id", ""): posixpath.normpath(posixpath.join(folder, r.get("Target", "")))
        for r in rels.findall("pr:Relationship", NS)
    }


def _text(node: ET.Element | None) -> str:
    return "" if node is None else "".join(t.text or "" for t in node.iter(f"{{{NS['a']}}}t"))


def sheet_part(z: zipfile.ZipFile, sheet: str) -> str:
    book = ET.fromstring(z.read("xl/workbook.xml"))
    rid = next(s.get(f"{{{NS['r']}}}id") for s in book.iter(f"{{{NS['m']}}}sheet") if s.get("name") == sheet)
    return _rels(z, "xl/workbook.xml")[rid or ""]


def charts_of(data: bytes, sheet: str) -> list[Chart]:
    """Every chart drawn over ``sheet``, with the cells its series name."""
    z = zipfile.ZipFile(io.BytesIO(data))
    types = {
        o.get("PartName", "").lstrip("/"): o.get("ContentType")
        for o in ET.fromstring(z.read("[Content_Types].xml")).findall("ct:Override", NS)
    }
    part = sheet_part(z, sheet)
    found = ET.fromstring(z.read(part)).find("m:drawing", NS)
    if found is None:
        return []
    drawing = _rels(z, part)[found.get(f"{{{NS['r']}}}id") or ""]
    assert types[drawing] == DRAWING_TYPE
    to_chart = _rels(z, drawing)
    values = cell_values(data, sheet)
    charts = []
    for anchor in ET.fromstring(z.read(drawing)).findall("xdr:twoCellAnchor", NS):
        start = anchor.find("xdr:from", NS)
        assert start is not None
        at = (int(start.findtext("xdr:col", "", NS)), int(start.findtext("xdr:row", "", NS)))
        ref = anchor.find(".//c:chart", NS)
        assert ref is not None
        chart_part = to_chart[ref.get(f"{{{NS['r']}}}id") or ""]
        assert types[chart_part] == CHART_TYPE
        space = ET.fromstring(z.read(chart_part))
        plot = space.find("c:chart/c:plotArea", NS)
        assert plot is not None
        kind = plot[1].tag.split("}")[1]
        ser = plot[1].find("c:ser", NS)
        assert ser is not None
        charts.append(Chart(
            title=_text(space.find("c:chart/c:title", NS)),
            kind=kind,
            at=at,
            name=_series(ser.find("c:tx", NS), values, sheet),
            categories=_series(ser.find("c:cat", NS), values, sheet),
            values=_series(ser.find("c:val", NS), values, sheet),
            axis_titles=[_text(ax.find("c:title", NS)) for ax in plot if ax.tag.endswith(("catAx", "valAx"))],
        ))
    return charts


def _series(node: ET.Element | None, values: dict[str, Any], sheet: str) -> Series:
    assert node is not None
    f = node.findtext(".//c:f", "", NS)
    cached: list[Any] = [p.findtext("c:v", "", NS) for p in node.iterfind(".//c:pt", NS)]
    if node.find(".//c:numCache", NS) is not None:
        cached = [float(v) for v in cached]
    m = _REF.match(f)
    assert m is not None, f
    name, c1, r1, c2, r2 = m.groups()
    assert name.replace("''", "'") == sheet, f"{f} names another sheet than {sheet}"
    assert c2 is None or c1 == c2, "a series reads one column"
    last = int(r2 or r1)
    return Series(f, cached, [values.get(f"{c1}{r}") for r in range(int(r1), last + 1)])


def cell_values(data: bytes, sheet: str) -> dict[str, Any]:
    ws = load_workbook(io.BytesIO(data))[sheet]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}
