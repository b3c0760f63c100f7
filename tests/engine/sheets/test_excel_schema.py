"""What Excel checks before it opens a workbook without offering to "repair" it, which is
stricter than LibreOffice or openpyxl: the children of each element in the order the
ECMA-376 schema's sequences give (``c:barChart``, ``c:catAx``, ``worksheet``…), the elements
a sequence requires, every relationship pointing at a part that is there, every part with
its content type, and chart anchors that span cells.

The sequences below are copied from the schema (dml-chart.xsd, sml.xsd, dml-spreadsheetDrawing.xsd),
listing every element a sequence allows, not only the ones we write."""

from __future__ import annotations

import io
import posixpath
import zipfile
from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import pytest

from engine.models import Batch, BatchStatus, Row, RowStatus
from engine.sheets.compare_sheet import ComparisonWriter
from engine.sheets.results import write_results

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
X = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
R_ID = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"

_AXIS_HEAD = ("axId scaling delete axPos majorGridlines minorGridlines title numFmt majorTickMark "
              "minorTickMark tickLblPos spPr txPr crossAx crosses crossesAt")
SEQUENCES: dict[str, tuple[str, str]] = {
    # tag: (children in schema order, the ones required)
    C + "chartSpace": ("date1904 lang roundedCorners AlternateContent style clrMapOvr pivotSource "
                       "protection chart spPr txPr externalData printSettings userShapes extLst", "chart"),
    C + "chart": ("title autoTitleDeleted pivotFmts view3D floor sideWall backWall plotArea legend "
                  "plotVisOnly dispBlanksAs showDLblsOverMax extLst", "plotArea"),
    C + "barChart": ("barDir grouping varyColors ser dLbls gapWidth overlap serLines axId extLst",
                     "barDir axId"),
    C + "ser": ("idx order tx spPr invertIfNegative pictureOptions dPt dLbls trendline errBars cat val "
                "shape extLst", "idx order"),
    C + "dPt": ("idx invertIfNegative marker bubble3D explosion spPr pictureOptions extLst", "idx"),
    C + "dLbls": ("dLbl delete numFmt spPr txPr dLblPos showLegendKey showVal showCatName showSerName "
                  "showPercent showBubbleSize separator showLeaderLines leaderLines extLst", ""),
    C + "catAx": (_AXIS_HEAD + " auto lblAlgn lblOffset tickLblSkip tickMarkSkip noMultiLvlLbl extLst",
                  "axId scaling axPos crossAx"),
    C + "valAx": (_AXIS_HEAD + " crossBetween majorUnit minorUnit dispUnits extLst",
                  "axId scaling axPos crossAx"),
    C + "title": ("tx layout overlay spPr txPr extLst", ""),
    C + "scaling": ("logBase orientation max min extLst", ""),
    C + "strRef": ("f strCache extLst", "f"),
    C + "numRef": ("f numCache extLst", "f"),
    C + "numCache": ("formatCode ptCount pt extLst", ""),
    M + "worksheet": (
        "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
        "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews mergeCells "
        "phoneticPr conditionalFormatting dataValidations hyperlinks printOptions pageMargins pageSetup "
        "headerFooter rowBreaks colBreaks customProperties cellWatches ignoredErrors smartTags drawing "
        "legacyDrawing legacyDrawingHF drawingHF picture oleObjects controls webPublishItems tableParts "
        "extLst", "sheetData"),
    M + "sheetView": ("pane selection pivotSelection extLst", ""),
    M + "workbook": ("fileVersion fileSharing workbookPr workbookProtection bookViews sheets "
                     "functionGroups externalReferences definedNames calcPr oleSize customWorkbookViews "
                     "pivotCaches smartTagPr smartTagTypes webPublishing fileRecoveryPr webPublishObjects "
                     "extLst", "sheets"),
    X + "twoCellAnchor": ("from to sp grpSp graphicFrame cxnSp pic contentPart clientData",
                          "from to clientData"),
    X + "from": ("col colOff row rowOff", "col colOff row rowOff"),
    X + "to": ("col colOff row rowOff", "col colOff row rowOff"),
    X + "graphicFrame": ("nvGraphicFramePr xfrm graphic", "nvGraphicFramePr xfrm graphic"),
}
T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def order_problems(part: str, root: ET.Element) -> list[str]:
    """Each element whose children break its schema sequence, or lack a required one."""
    problems = []
    for element in root.iter():
        if element.tag not in SEQUENCES or element.get(R_ID):
            continue  # a drawing's <c:chart r:id> only points at the chart part
        order, required = (s.split() for s in SEQUENCES[element.tag])
        names = [_local(child.tag) for child in element]
        unknown = [n for n in names if n not in order]
        positions = [order.index(n) for n in names if n in order]
        where = f"{part}: <{_local(element.tag)}> has {names}"
        if unknown:
            problems.append(f"{where}: {unknown} not allowed")
        if positions != sorted(positions):
            problems.append(f"{where}: out of schema order")
        if missing := [n for n in required if n not in names]:
            problems.append(f"{where}: {missing} missing")
        if element.tag == C + "barChart" and names.count("axId") != 2:
            problems.append(f"{where}: a bar chart needs exactly two axId")
    return problems


def package_problems(data: bytes) -> list[str]:
    """Schema order of every XML part, then the package: relationships, content types, anchors."""
    problems = []
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        names = set(z.namelist())
        types = ET.fromstring(z.read("[Content_Types].xml"))
        overrides = {o.get("PartName", "")[1:]: o.get("ContentType") for o in types.iter(CT + "Override")}
        defaults = {d.get("Extension") for d in types.iter(CT + "Default")}
        problems += [f"override for a missing part {p}" for p in overrides if p not in names]
        for name in sorted(names):
            root = ET.fromstring(z.read(name))
            problems += order_problems(name, root)
            if name.endswith(".xml") and name != "[Content_Types].xml" and name not in overrides:
                problems.append(f"{name} has no content type override")  # Default xml is application/xml
            if name.rsplit(".", 1)[-1] not in defaults and name not in overrides:
                problems.append(f"{name} has no content type")
            if not name.endswith(".rels"):
                continue
            folder = posixpath.dirname(posixpath.dirname(name))
            owner = posixpath.join(folder, posixpath.basename(name)[: -len(".rels")])
            rel_ids = set()
            for rel in root.iter(PKG + "Relationship"):
                rel_ids.add(rel.get("Id"))
                target = posixpath.normpath(posixpath.join(folder, rel.get("Target", "")))
                if target not in names:
                    problems.append(f"{name}: {rel.get('Id')} points at missing {target}")
            if owner in names:
                used = {e.get(R_ID) for e in ET.fromstring(z.read(owner)).iter() if e.get(R_ID)}
                problems += [f"{owner} uses {i} that {name} lacks" for i in sorted(used - rel_ids)]
        for name in sorted(n for n in names if n.startswith("xl/drawings/") and n.endswith(".xml")):
            problems += _anchor_problems(name, ET.fromstring(z.read(name)))
    return problems


def _anchor_problems(name: str, drawing: ET.Element) -> list[str]:
    problems, ids = [], []
    for anchor in drawing.iter(X + "twoCellAnchor"):
        start, end = anchor.find(X + "from"), anchor.find(X + "to")
        assert start is not None and end is not None
        corner = [(int(p.findtext(X + "col", "-1")), int(p.findtext(X + "row", "-1"))) for p in (start, end)]
        if not (0 <= corner[0][0] < corner[1][0] and 0 <= corner[0][1] < corner[1][1]):
            problems.append(f"{name}: anchor {corner} does not span cells")
        ids += [e.get("id") for e in anchor.iter(X + "cNvPr")]
    if len(ids) != len(set(ids)):
        problems.append(f"{name}: shape ids repeat {ids}")
    return problems


def sample_batch(batch_id: str = "b1", workflow: str = "summarize") -> Batch:
    return Batch(batch_id, workflow, "telegram:1", BatchStatus.COMPLETED, 12, T0, columns=("text", "day"),
                 source_name="in.xlsx", started_at=T0, finished_at=T0)


def sample_rows(batch_id: str = "b1") -> list[Row]:
    return [
        Row(batch_id, i, i + 2, (f"t{i}", "2026-03-04"), {"answer": f"a{i}"},
            status=RowStatus.FAILED if i % 4 == 0 else RowStatus.SUCCEEDED, attempts=1,
            elapsed_s=0.4 + i / 10, tokens=10, outputs={"answer": f"a{i}"},
            error="boom" if i % 4 == 0 else None)
        for i in range(12)
    ]


def _results() -> bytes:
    buf = io.BytesIO()
    write_results(buf, sample_batch(), sample_rows())
    return buf.getvalue()


def _comparison() -> bytes:
    buf = io.BytesIO()
    writer = ComparisonWriter(buf, [sample_batch("b1"), sample_batch("b2", "summarize-v2")], "c1", ["answer"])
    for first, second in zip(sample_rows("b1"), sample_rows("b2"), strict=True):
        writer.add([[first, second]])
    writer.close()
    return buf.getvalue()


def test_the_results_workbook_with_charts_is_what_excel_opens_without_repair() -> None:
    data = _results()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        parts = set(z.namelist())
    assert {"xl/charts/chart1.xml", "xl/charts/chart2.xml", "xl/drawings/drawing1.xml"} <= parts
    assert package_problems(data) == []


def test_the_comparison_workbook_is_what_excel_opens_without_repair() -> None:
    assert package_problems(_comparison()) == []


@pytest.mark.parametrize(("part", "xml", "found"), [
    ("chart", f'<c:barChart xmlns:c="{C[1:-1]}"><c:grouping val="clustered"/><c:barDir val="col"/>'
              '<c:axId val="1"/><c:axId val="2"/></c:barChart>', "out of schema order"),
    ("chart", f'<c:catAx xmlns:c="{C[1:-1]}"><c:axId val="1"/><c:scaling/><c:axPos val="b"/></c:catAx>',
     "['crossAx'] missing"),
    ("sheet", f'<worksheet xmlns="{M[1:-1]}"><sheetData/><drawing/><pageMargins/></worksheet>',
     "out of schema order"),
])
def test_the_check_itself_catches_what_excel_would_repair(part: str, xml: str, found: str) -> None:
    problems = order_problems(part, ET.fromstring(xml))
    assert len(problems) == 1 and found in problems[0], problems
