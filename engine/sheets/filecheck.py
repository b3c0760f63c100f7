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
_OTHER_BINARIES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"Rar!", "a RAR archive"),
    (b"7z\xbc\xaf", "a 7-Zip archive"),
    (b"{\\rtf", "an RTF document"),
)
_DANGEROUS_XML = (b"<!DOCTYPE", b"<!ENTITY")


def check_file(data: bytes, filename: str, limits: SheetLimits) -> FileKind:
    """Refuse what must not be parsed; return what the file really is. Raises SheetError."""
    if not data:
        raise SheetError(f"{filename} is empty (0 bytes).")
    if len(data) > limits.max_file_bytes:
        raise SheetError(
            f"{filename} is {_mb(len(data))}; the limit is {_mb(limits.max_file_bytes)}, set by "
            "[limits] max_file_mb. Split it into smaller files, or raise [limits] max_file_mb "
            "in the configuration."
        )
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
            raise SheetError(
                f"{filename} is password-protected. Save it without a password and send it again."
            )
        return FileKind.XLS
    for magic, what in _OTHER_BINARIES:
        if data.startswith(magic):
            raise SheetError(
                f"{filename} is {what}, not a spreadsheet. Send an .xlsx, .xls, .ods or .csv file."
            )
    head = data[:4096]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").lower().startswith((b"<!doctype html", b"<html")):
        raise SheetError(
            f"{filename} is a web page (HTML), not a spreadsheet. Open it in Excel and save it as .xlsx."
        )
    if not _looks_like_text(head):
        raise SheetError(f"{filename} is not a spreadsheet. Send an .xlsx, .xls, .ods or .csv file.")
    if ext in WORKBOOK_EXTENSIONS:
        raise SheetError(
            f"{filename} is named {ext} but is not an Excel/ODS workbook; it is plain text. "
            "If it is CSV, name it .csv, or open it in Excel and save it as .xlsx."
        )
    if ext not in TEXT_EXTENSIONS:
        raise SheetError(
            f"{filename}: {ext} files are not supported. Send an .xlsx, .xls, .ods or .csv file."
        )
    return FileKind.CSV


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return b"\x00" not in head


def _zip_kind(data: bytes, filename: str) -> FileKind:
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise SheetError(f"{filename} is a damaged workbook (the zip container cannot be read).") from exc
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
                raise SheetError(f"{filename} is a Word document, not a spreadsheet.")
            if "ppt/presentation.xml" in names:
                raise SheetError(f"{filename} is a PowerPoint presentation, not a spreadsheet.")
    raise SheetError(f"{filename} is a zip archive, not a workbook. Send an .xlsx, .xls, .ods or .csv file.")


def _read_capped(zf: zipfile.ZipFile, name: str, cap: int, filename: str) -> bytes:
    with zf.open(name) as fh:
        blob = fh.read(cap + 1)
    if len(blob) > cap:
        raise SheetError(f"{filename}: the part {name} is implausibly large; the file was refused.")
    return blob


def _parse_small_xml(blob: bytes, filename: str) -> str:
    """Parse with defusedxml (refuses DTDs and entities) and return the attribute text seen."""
    try:
        root = DefusedET.fromstring(blob, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise SheetError(
            f"{filename} contains XML entity declarations, which are refused for safety."
        ) from exc
    except Exception as exc:  # ParseError comes from the stdlib parser under defusedxml
        raise SheetError(f"{filename} is a damaged workbook (its content list is not valid XML).") from exc
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
        raise SheetError(f"{filename} is a damaged workbook (the zip container cannot be read).") from exc
    with zf:
        infos = zf.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise SheetError(f"{filename} holds {len(infos)} parts; a workbook with that many is refused.")
        declared = sum(i.file_size for i in infos)
        if declared > max_unzipped_bytes:
            raise SheetError(
                f"{filename} would unpack to {_mb(declared)}, over the {_mb(max_unzipped_bytes)} limit "
                "(this is how zip bombs look). Remove unused sheets or split the file."
            )
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_EXEMPT_BYTES and ratio > MAX_RATIO:
                raise SheetError(
                    f"{filename}: the part {info.filename} expands {ratio:.0f}× when unpacked, "
                    "which is how zip bombs look; the file was refused."
                )
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
                    raise SheetError(
                        f"{filename} unpacks to more than {_mb(cap)} (the zip headers understate it); "
                        "the file was refused."
                    )
                if scan:
                    window = tail + chunk
                    if any(tag in window for tag in _DANGEROUS_XML):
                        raise SheetError(
                            f"{filename} contains XML entity/DTD declarations ({info.filename}), "
                            "which are refused for safety."
                        )
                    tail = chunk[-16:]
                if counter is not None:
                    counter.feed(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
        raise SheetError(f"{filename} is a damaged or encrypted workbook ({info.filename}).") from exc
    return total


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MB"
