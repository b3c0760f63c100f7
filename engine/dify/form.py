"""Dify's ``user_input_form`` read into form fields, and file URLs turned into file inputs."""

from __future__ import annotations

from collections.abc import Mapping
from posixpath import splitext
from typing import Any
from urllib.parse import urlsplit

from engine.models import FieldType, FormField, InputForm, JsonDict

_FILE_TYPES_BY_EXTENSION: dict[str, str] = {
    **dict.fromkeys(("jpg", "jpeg", "png", "webp", "gif", "svg"), "image"),
    **dict.fromkeys(("mp4", "mov", "mpeg", "webm"), "video"),
    **dict.fromkeys(("mp3", "m4a", "wav", "amr", "mpga", "ogg"), "audio"),
    **dict.fromkeys(
        (
            "txt", "markdown", "md", "mdx", "pdf", "html", "htm", "xlsx", "xls", "docx", "doc",
            "csv", "vtt", "properties", "eml", "msg", "pptx", "ppt", "xml", "epub",
        ),
        "document",
    ),
}  # fmt: skip
_FIELD_TYPES = {member.value: member for member in FieldType}
_FILE_FIELDS = (FieldType.FILE, FieldType.FILE_LIST)


def parse_form(parameters: Mapping[str, Any]) -> tuple[FormField, ...]:
    """Every control of ``user_input_form``, in form order.

    Each item is a one-key object ``{"<control type>": {variable, label, ...}}``; the key,
    not the inner ``type``, names the control (an external data tool's ``type`` is its kind).
    """
    items = parameters.get("user_input_form")
    fields: list[FormField] = []
    for item in items if isinstance(items, list) else ():
        if not isinstance(item, dict) or len(item) != 1:
            continue
        ((control, spec),) = item.items()
        if not isinstance(spec, dict) or not isinstance(spec.get("variable"), str):
            continue
        fields.append(_field(control, spec))
    return tuple(fields)


def _field(control: str, spec: Mapping[str, Any]) -> FormField:
    variable: str = spec["variable"]
    label = spec.get("label")
    # a control type newer than this code is treated as free text so its column still works
    field_type = _FIELD_TYPES.get(control, FieldType.PARAGRAPH)
    max_length = spec.get("max_length")
    description = spec.get("description") or spec.get("hint") or ""
    return FormField(
        variable=variable,
        label=label if isinstance(label, str) and label else variable,
        type=field_type,
        required=bool(spec.get("required", False)) and field_type is not FieldType.EXTERNAL_DATA_TOOL,
        max_length=max_length if isinstance(max_length, int) and max_length > 0 else None,
        options=tuple(str(option) for option in spec.get("options") or ()),
        default=spec.get("default"),
        description=description if isinstance(description, str) else "",
        allowed_file_types=tuple(str(kind) for kind in spec.get("allowed_file_types") or ()),
    )


def guess_file_type(url: str, allowed: tuple[str, ...] = ()) -> str:
    """Dify's file ``type`` for a URL, from its extension and what the variable allows."""
    extension = splitext(urlsplit(url).path)[1].lstrip(".").lower()
    guessed = _FILE_TYPES_BY_EXTENSION.get(extension)
    if guessed is None:
        only_one = len(allowed) == 1 and allowed[0] != "custom"
        return allowed[0] if only_one else "custom"
    if allowed and guessed not in allowed and "custom" in allowed:
        return "custom"
    return guessed


def file_input(url: str, allowed: tuple[str, ...] = ()) -> JsonDict:
    return {"type": guess_file_type(url, allowed), "transfer_method": "remote_url", "url": url}


def encode_file_inputs(inputs: JsonDict, form: InputForm) -> JsonDict:
    """``inputs`` with file URLs turned into Dify file objects; the same dict when none."""
    file_fields = [f for f in form.fields if f.type in _FILE_FIELDS and inputs.get(f.variable)]
    if not file_fields:
        return inputs
    encoded = dict(inputs)
    for field in file_fields:
        value = encoded[field.variable]
        if field.type is FieldType.FILE:
            if isinstance(value, str):
                encoded[field.variable] = file_input(value.strip(), field.allowed_file_types)
            continue
        urls = value.split() if isinstance(value, str) else value
        if isinstance(urls, list | tuple):
            encoded[field.variable] = [
                file_input(item.strip(), field.allowed_file_types) if isinstance(item, str) else item
                for item in urls
                if item != ""
            ]
    return encoded
