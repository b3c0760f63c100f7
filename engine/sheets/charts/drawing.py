"""DrawingML for column charts over cells of a sheet: ``xl/charts/chartN.xml`` parts, the
drawing that places them (``twoCellAnchor`` graphic frames) and the relationships between.

Each series names its cells (``'Summary'!$B$20:$B$23``), so Excel and LibreOffice draw from
the sheet; the values are also cached in the chart, as Excel does, for readers that show a
chart without recalculating.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from engine.sheets.ooxml import SheetPart, WorkbookWriter, relationships

CHART_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_C = "http://schemas.openxmlformats.org/drawingml/2006/chart"
_A = "http://schemas.openxmlformats.org/drawingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
_CHART_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/chart"
_TEXT = "404040"


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where a chart sits: from the top-left corner of cell (``col``, ``row``), 0-based,
    ``cols`` columns wide and ``rows`` rows tall."""

    col: int
    row: int
    cols: int = 8
    rows: int = 15


@dataclass(frozen=True, slots=True)
class ColumnChart:
    """One series of counts drawn as columns over named categories."""

    title: str
    category_axis: str
    value_axis: str
    series_ref: str
    """The cell holding the series' name (its column header)."""
    series_name: str
    categories_ref: str
    categories: Sequence[str]
    values_ref: str
    values: Sequence[float]
    anchor: Anchor
    colours: Sequence[str] = ()
    """One RGB hex per column (``70AD47``); empty for one colour throughout."""
    gap: int = 60
    """Space between columns, in % of a column: small for a histogram, whose buckets touch."""


def add_charts(book: WorkbookWriter, sheet: SheetPart, charts: Sequence[ColumnChart], first: int = 1) -> None:
    """Write ``charts`` as ``chart{first}.xml``… and a drawing placing them over ``sheet``,
    which must still be open."""
    if not charts:
        return
    frames = []
    rels = []
    for i, chart in enumerate(charts):
        number = first + i
        book.add_part(f"xl/charts/chart{number}.xml", chart_xml(chart), CHART_TYPE)
        rels.append((f"rId{i + 1}", _CHART_REL, f"../charts/chart{number}.xml"))
        frames.append(_frame(chart, i + 1))
    drawing = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<xdr:wsDr xmlns:xdr="{_XDR}" '
        f'xmlns:a="{_A}">{"".join(frames)}</xdr:wsDr>'
    )
    book.add_drawing(sheet, drawing, relationships(rels))


def chart_xml(chart: ColumnChart) -> str:
    """The chart part: a clustered column chart with titled axes and the counts on the columns."""
    points = "".join(
        f'<c:dPt><c:idx val="{i}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/>{_fill(c)}</c:dPt>'
        for i, c in enumerate(chart.colours)
    )
    series = (
        '<c:ser><c:idx val="0"/><c:order val="0"/>'
        f"<c:tx>{_str_ref(chart.series_ref, [chart.series_name])}</c:tx>"
        f'{_fill("4472C4")}<c:invertIfNegative val="0"/>{points}'
        f"<c:cat>{_str_ref(chart.categories_ref, chart.categories)}</c:cat>"
        f"<c:val>{_num_ref(chart.values_ref, chart.values)}</c:val></c:ser>"
    )
    labels = (
        '<c:dLbls><c:spPr><a:noFill/><a:ln><a:noFill/></a:ln></c:spPr>'
        '<c:showLegendKey val="0"/><c:showVal val="1"/><c:showCatName val="0"/>'
        '<c:showSerName val="0"/><c:showPercent val="0"/><c:showBubbleSize val="0"/></c:dLbls>'
    )
    bars = (
        '<c:barChart><c:barDir val="col"/><c:grouping val="clustered"/><c:varyColors val="0"/>'
        f'{series}{labels}<c:gapWidth val="{chart.gap}"/>'
        '<c:axId val="10"/><c:axId val="20"/></c:barChart>'
    )
    category_axis = (
        '<c:catAx><c:axId val="10"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        f'<c:delete val="0"/><c:axPos val="b"/>{_title(chart.category_axis, 1000)}'
        '<c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="20"/>'
        '<c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/><c:lblOffset val="100"/>'
        '<c:noMultiLvlLbl val="0"/></c:catAx>'
    )
    value_axis = (
        '<c:valAx><c:axId val="20"/><c:scaling><c:orientation val="minMax"/></c:scaling>'
        '<c:delete val="0"/><c:axPos val="l"/><c:majorGridlines><c:spPr><a:ln w="6350">'
        '<a:solidFill><a:srgbClr val="D9D9D9"/></a:solidFill></a:ln></c:spPr></c:majorGridlines>'
        f'{_title(chart.value_axis, 1000)}<c:numFmt formatCode="#,##0" sourceLinked="0"/>'
        '<c:majorTickMark val="none"/><c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/>'
        '<c:crossAx val="10"/><c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<c:chartSpace xmlns:c="{_C}" '
        f'xmlns:a="{_A}" xmlns:r="{_R}"><c:roundedCorners val="0"/><c:chart>'
        f'{_title(chart.title, 1400)}<c:autoTitleDeleted val="0"/><c:plotArea><c:layout/>'
        f"{bars}{category_axis}{value_axis}</c:plotArea>"
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    )


def _frame(chart: ColumnChart, rel: int) -> str:
    at = chart.anchor
    return (
        '<xdr:twoCellAnchor editAs="oneCell">'
        f"<xdr:from><xdr:col>{at.col}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{at.row}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{at.col + at.cols}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{at.row + at.rows}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
        f'<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr><xdr:cNvPr id="{rel + 1}" '
        f'name="{escape(chart.title, {chr(34): "&quot;"})}"/><xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr>'
        '<xdr:xfrm><a:off x="0" y="0"/><a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
        f'<a:graphicData uri="{_C}"><c:chart xmlns:c="{_C}" xmlns:r="{_R}" r:id="rId{rel}"/>'
        "</a:graphicData></a:graphic></xdr:graphicFrame><xdr:clientData/></xdr:twoCellAnchor>"
    )


def _title(text: str, size: int) -> str:
    run = (
        f'<a:r><a:rPr sz="{size}" b="{int(size > 1000)}">'
        f'<a:solidFill><a:srgbClr val="{_TEXT}"/></a:solidFill></a:rPr><a:t>{escape(text)}</a:t></a:r>'
    )
    return (
        f"<c:title><c:tx><c:rich><a:bodyPr/><a:lstStyle/><a:p><a:pPr><a:defRPr sz=\"{size}\"/></a:pPr>"
        f'{run}</a:p></c:rich></c:tx><c:overlay val="0"/></c:title>'
    )


def _fill(rgb: str) -> str:
    return f'<c:spPr><a:solidFill><a:srgbClr val="{rgb}"/></a:solidFill></c:spPr>'


def _str_ref(ref: str, texts: Sequence[str]) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{escape(t)}</c:v></c:pt>' for i, t in enumerate(texts))
    return (
        f'<c:strRef><c:f>{escape(ref)}</c:f><c:strCache><c:ptCount val="{len(texts)}"/>{points}'
        "</c:strCache></c:strRef>"
    )


def _num_ref(ref: str, values: Sequence[float]) -> str:
    points = "".join(f'<c:pt idx="{i}"><c:v>{v!r}</c:v></c:pt>' for i, v in enumerate(values))
    return (
        f'<c:numRef><c:f>{escape(ref)}</c:f><c:numCache><c:formatCode>General</c:formatCode>'
        f'<c:ptCount val="{len(values)}"/>{points}</c:numCache></c:numRef>'
    )
