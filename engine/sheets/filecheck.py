"""Checks an upload before any parser sees it: size, real type by magic bytes, zip bombs, XML tricks."""

from __future__ import annotations

import io
import zipfile
import zlib
from enum import StrEnum
from pathlib import PurePath

import defusedxml.ElementTree as DefusedET
from defusedxml import DefusedXmlException

from engine.errors import SheetError
from engine.models import SheetLimits
from engine.sheets.rowcount import RowBoundExceeded, SheetRowCounter, check_csv_rows, data_sheet_part
from engine.sheets.sentences import sheet_phrase


class FileKind(StrEnum):
    XLSX = "xlsx"
    XLS = "xls"
    ODS = "ods"
    CSV = "csv"


WORKBOOK_EXTENSIONS = frozenset({".xlsx", ".xlsm", ".xls", ".ods"})
TEXT_EXTENSIONS = frozenset({".csv", ".tsv", ".txt", ""})

MAX_ZIP_MEMBERS = 10_000
# A real sheet part compresses 5–30×; the bombs measured compressed ~950×. Small parts are exempt
# because a tiny repetitive part can compress hard without being dangerous.
MAX_RATIO = 100
RATIO_EXEMPT_BYTES = 1 << 20
_CHUNK = 1 << 16

_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
_XLSX_MAIN_TYPES = (
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml",
    "application/vnd.ms-excel.sheet.macroEnabled.main+xml",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.template.main+xml",
)
_OTHER_BINARIES: tuple[tuple[bytes, str], ...] = (  # magic, the sentence code of what it is
    (b"%PDF", "kind_pdf"),
    (b"\x89PNG", "kind_png"),
    (b"\xff\xd8\xff", "kind_jpeg"),
    (b"GIF8", "kind_gif"),
    (b"\x1f\x8b", "kind_gzip"),
    (b"Rar!", "kind_rar"),
    (b"7z\xbc\xaf", "kind_7z"),
    (b"{\\rtf", "kind_rtf"),
)
_DANGEROUS_XML = (b"<!DOCTYPE", b"<!ENTITY")


def check_file(data: bytes, filename: str, limits: SheetLimits) -> FileKind:
    """Refuse what must not be parsed; return what the file really is. Raises SheetError."""
    if not data:
        raise SheetError(sheet_phrase("empty_file", filename=filename))
    if len(data) > limits.max_file_bytes:
        raise SheetError(sheet_phrase(
            "file_too_big", filename=filename, size=_mb(len(data)), limit=_mb(limits.max_file_bytes)
        ))
    kind = sniff_kind(data, filename)
    if kind is FileKind.CSV:
        check_csv_rows(data, filename, limits.max_rows)
    elif kind is FileKind.XLSX:
        check_zip(data, filename, limits.max_unzipped_bytes, max_rows=limits.max_rows)
    elif kind is FileKind.ODS:
        check_zip(data, filename, limits.max_unzipped_bytes)
    return kind


def sniff_kind(data: bytes, filename: str) -> FileKind:
    """Decide the type by content; the extension only decides what a plain-text file is allowed to be."""
    ext = PurePath(filename).suffix.lower()
    if data.startswith(_ZIP_MAGIC):
        return _zip_kind(data, filename)
    if data.startswith(_OLE_MAGIC):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise SheetError(sheet_phrase("password", filename=filename))
        return FileKind.XLS
    for magic, what in _OTHER_BINARIES:
        if data.startswith(magic):
            raise SheetError(sheet_phrase("other_file", filename=filename, what=sheet_phrase(what)))
    head = data[:4096]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")):
        raise SheetError(sheet_phrase("html", filename=filename))
    if not _looks_like_text(head):
        raise SheetError(sheet_phrase("not_sheet", filename=filename))
    if ext in WORKBOOK_EXTENSIONS:
        raise SheetError(sheet_phrase("text_named_workbook", filename=filename, ext=ext))
    if ext not in TEXT_EXTENSIONS:
        raise SheetError(sheet_phrase("unsupported_ext", filename=filename, ext=ext))
    return FileKind.CSV


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return b"\x00" not in head


def _zip_kind(data: bytes, filename: str) -> FileKind:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetError(sheet_phrase("damaged_zip", filename=filename)) from exc
    with zf:
        names = set(zf.namelist())
        if "mimetype" in names and zf.read("mimetype").strip() == _ODS_MIME:
            return FileKind.ODS
        if "[Content_Types].xml" in names:
            types_xml = _read_capped(zf, "[Content_Types].xml", 1 << 20, filename)
            content_types = _parse_small_xml(types_xml, filename)
            if any(t in content_types for t in _XLSX_MAIN_TYPES):
                return FileKind.XLSX
            if "word/document.xml" in names:
                raise SheetError(sheet_phrase("word", filename=filename))
            if "ppt/presentation.xml" in names:
                raise SheetError(sheet_phrase("powerpoint", filename=filename))
    raise SheetError(sheet_phrase("zip_not_workbook", filename=filename))


def _read_capped(zf: zipfile.ZipFile, name: str, cap: int, filename: str) -> bytes:
    with zf.open(name) as fh:
        blob = fh.read(cap + 1)
    if len(blob) > cap:
        raise SheetError(sheet_phrase("part_too_large", filename=filename, part=name))
    return blob


def _parse_small_xml(blob: bytes, filename: str) -> str:
    """Parse with defusedxml (refuses DTDs and entities) and return the attribute text seen."""
    try:
        root = DefusedET.fromstring(blob, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SheetError(sheet_phrase("xml_entities", filename=filename)) from exc
    except Exception as exc:  # ParseError comes from the stdlib parser under defusedxml
        raise SheetError(sheet_phrase("damaged_content_list", filename=filename)) from exc
    return " ".join(v for el in root.iter() for v in el.attrib.values())


def check_zip(data: bytes, filename: str, max_unzipped_bytes: int, *, max_rows: int | None = None) -> None:
    """Refuse zip bombs and DTD/entity tricks before any XML parser runs.

    The declared sizes are checked first (cheap); then every part is inflated in chunks and
    counted, because declared sizes can lie and the readers trust the stream, not the header.
    With ``max_rows`` the data sheet goes first and its rows are counted as it inflates, so
    an over-long sheet is refused after ``max_rows`` rows, whatever its dimension claims.
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetError(sheet_phrase("damaged_zip", filename=filename)) from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise SheetError(sheet_phrase("too_many_parts", filename=filename, n=len(infos)))
        declared = sum(i.file_size for i in infos)
        if declared > max_unzipped_bytes:
            raise SheetError(sheet_phrase(
                "unzips_too_big", filename=filename, size=_mb(declared), limit=_mb(max_unzipped_bytes)
            ))
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_EXEMPT_BYTES and ratio > MAX_RATIO:
                raise SheetError(sheet_phrase(
                    "zip_ratio", filename=filename, part=info.filename, ratio=f"{ratio:.0f}"
                ))
        counted = data_sheet_part(zf) if max_rows is not None else None
        if counted is not None and max_rows is not None:
            infos.sort(key=lambda i: i.filename != counted)
        total = 0
        for info in infos:
            if info.filename != counted or not max_rows:
                total = _inflate_and_scan(zf, info, total, max_unzipped_bytes, filename)
                continue
            try:
                quick = SheetRowCounter(filename, max_rows, exact=False)
                total = _inflate_and_scan(zf, info, total, max_unzipped_bytes, filename, quick)
            except RowBoundExceeded:  # maybe over: count again, exactly, stopping at the limit
                exact = SheetRowCounter(filename, max_rows, exact=True)
                total = _inflate_and_scan(zf, info, total, max_unzipped_bytes, filename, exact)


def _inflate_and_scan(
    zf: zipfile.ZipFile,
    info: zipfile.ZipInfo,
    total: int,
    cap: int,
    filename: str,
    counter: SheetRowCounter | None = None,
) -> int:
    """Inflate one part in chunks, counting real bytes and looking for DTD/entity declarations."""
    scan = info.filename.endswith((".xml", ".rels", ".vml")) or info.filename == "[Content_Types].xml"
    tail = b""
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(_CHUNK):
                total += len(chunk)
                if total > cap:
                    raise SheetError(sheet_phrase("unzips_more", filename=filename, limit=_mb(cap)))
                if scan:
                    window = tail + chunk
                    if any(tag in window for tag in _DANGEROUS_XML):
                        raise SheetError(sheet_phrase("xml_dtd_part", filename=filename, part=info.filename))
                    tail = chunk[-16:]
                if counter is not None:
                    counter.feed(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise SheetError(sheet_phrase("damaged_part", filename=filename, part=info.filename)) from exc
    return total


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
