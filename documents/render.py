"""Render a .docx template in a Jinja sandbox, with autoescaping, for any text and any template.

Every part docxtpl renders (body, headers, footers, footnotes, core properties) gets the same
``SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)``, so user text with ``& < >``
stays text, a template cannot reach Python internals (docxtpl issues #549, #632), and a missing
variable is an error naming it rather than a silent blank.
"""

from __future__ import annotations

import io
import re
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from docx.opc.constants import CONTENT_TYPE as CT
from docx.opc.package import Unmarshaller
from docx.opc.part import Part, PartFactory
from docx.opc.pkgreader import PackageReader
from docx.package import Package
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, Template, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

# XML 1.0 forbids these; escaping does not help, so they are removed from every string. Lone
# surrogates too (a JSON "\ud800" escape decodes to one): kept, they cut the text after them.
_ILLEGAL_XML = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
MAX_TEMPLATE_BYTES = 10 * 1024 * 1024
MAX_UNCOMPRESSED = 50 * 1024 * 1024
MAX_ENTRIES = 500


class TemplateProblem(Exception):
    """A template that cannot be used, with what is wrong in zh-TW and English."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message_en)
        self.message = message
        self.message_en = message_en


# Modules whose objects a template may read attributes of: the plain data a context is made of,
# and Jinja's own helpers (loop, namespace, ...). Anything else reachable from a context -- the
# InlineImage of a photo carries the DocxTemplate itself (``.tpl``), whose methods read and write
# files (``replace_zipname``, ``save``) -- is out of a template's reach, whatever its attribute.
_PLAIN_MODULES = ("builtins", "datetime", "decimal", "markupsafe")


class DocumentSandbox(SandboxedEnvironment):
    """Jinja's sandbox (no underscore attributes, no unsafe callables), and attribute access only on
    plain data and Jinja's helpers: an administrator's uploaded template cannot reach the renderer."""

    def __init__(self) -> None:
        super().__init__(undefined=StrictUndefined, autoescape=True)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        module = type(obj).__module__
        if module not in _PLAIN_MODULES and module != "jinja2" and not module.startswith("jinja2."):
            return False
        return super().is_safe_attribute(obj, attr, value)


def sandbox() -> SandboxedEnvironment:
    return DocumentSandbox()


class CompilingOnceSandbox(DocumentSandbox):
    """The same sandbox, remembering what it compiled: docxtpl compiles every XML part of a template
    on every render (``from_string``), which is about a third of a render. The parts of the few
    templates in use are compiled once per process instead (keyed by their exact source, so an
    uploaded template is a different key and is compiled, and checked by the sandbox, afresh)."""

    MAX_ENTRIES = 128

    def __init__(self) -> None:
        super().__init__()
        self._compiled: OrderedDict[str, Template] = OrderedDict()
        self._compiled_lock = threading.Lock()

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        with self._compiled_lock:
            found = self._compiled.get(source)
            if found is not None:
                self._compiled.move_to_end(source)
                return found
        template = super().from_string(source)
        with self._compiled_lock:
            self._compiled[source] = template
            while len(self._compiled) > self.MAX_ENTRIES:
                self._compiled.popitem(last=False)
        return template


_RENDER_ENV = CompilingOnceSandbox()


# Because of this, python-docx calls that read styles (``tpl.styles``, ``add_paragraph(style=...)``,
# ``table.style``, docxtpl's ``Subdoc``) do not work on a template opened by ``render_docx``; none is
# used here, and one added later would fail loudly (AttributeError), not quietly.
class _StylesAsBytes(PartFactory):
    """python-docx's part factory except for the styles part, which stays the bytes it was.

    docxtpl renders the body, headers, footers, footnotes and properties; nothing of ours reads or
    changes the styles. python-docx would parse ``word/styles.xml`` (hundreds of KB in a Word file)
    on open and serialise it again on save, about a third of a render plus the freeing of the tree
    afterwards; kept as bytes it is written back unchanged (for the built-in templates the output
    is byte for byte what the parsed round trip gave). Only this module's renders use it: other
    python-docx users in the process keep the global factory."""

    part_type_for: dict[str, type[Part]] = {  # noqa: RUF012 (a class attribute, as in PartFactory)
        ct: cls for ct, cls in PartFactory.part_type_for.items() if ct != CT.WML_STYLES}


class _Template(DocxTemplate):
    """DocxTemplate opening its package with ``_StylesAsBytes`` (what ``docx.Document`` does
    otherwise, with the same check that the package is a Word document)."""

    def init_docx(self, reload: bool = True) -> None:
        # (getattr: docxtpl's attributes are untyped)
        if not getattr(self, "docx", None) or (bool(getattr(self, "is_rendered", False)) and reload):
            package = Package()
            Unmarshaller.unmarshal(PackageReader.from_file(self.template_file), package, _StylesAsBytes)
            part = package.main_document_part
            if part.content_type != CT.WML_DOCUMENT_MAIN:
                raise ValueError(f"not a Word file, content type is {part.content_type!r}")
            self.docx = part.document
            self.is_rendered = False


def clean_text(value: Any) -> Any:
    """Strip XML-illegal control characters from every string in a nested structure."""
    if isinstance(value, str):
        return _ILLEGAL_XML.sub("", value)
    if isinstance(value, Mapping):
        return {k: clean_text(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_text(v) for v in value]
    return value


def check_package(data: bytes) -> None:
    """Refuse what is not a sane .docx before any XML is parsed (size, zip bomb, missing parts)."""
    if len(data) > MAX_TEMPLATE_BYTES:
        raise TemplateProblem(f"範本檔案過大（上限 {MAX_TEMPLATE_BYTES // 1024 // 1024} MB）",
                              "the template file is too large")
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise TemplateProblem("這不是 Word（.docx）檔案，請以 Word 或 LibreOffice 另存為 .docx 後再上傳",
                              "not a .docx file (not a zip package)") from None
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES or sum(i.file_size for i in infos) > MAX_UNCOMPRESSED:
        raise TemplateProblem("範本解壓縮後過大，請移除大型圖片後再上傳", "the template unpacks too large")
    names = {i.filename for i in infos}
    if "word/document.xml" not in names or "[Content_Types].xml" not in names:
        raise TemplateProblem("檔案缺少 Word 文件內容（word/document.xml），請確認是 .docx 檔",
                              "no word/document.xml in the package")


ImageLoader = Callable[[str], bytes]


def render_docx(template: bytes, context: Mapping[str, Any], *, load_image: ImageLoader | None = None) -> bytes:
    """Render ``template`` with ``context`` (plain data); photos given as ``{"storage_key": ...}`` in
    ``context["photos"]`` become inline images read through ``load_image``."""
    check_package(template)
    tpl = _Template(io.BytesIO(template))
    ctx: dict[str, Any] = clean_text(dict(context))
    if load_image is not None and isinstance(ctx.get("photos"), list):
        ctx["photos"] = [
            {**p, "image": InlineImage(tpl, io.BytesIO(load_image(p["storage_key"])), width=Mm(70))}
            for p in ctx["photos"]
        ]
    try:
        tpl.render(ctx, jinja_env=_RENDER_ENV, autoescape=True)
    except SecurityError as exc:
        raise TemplateProblem(f"範本使用了不允許的語法（安全限制）：{exc}",
                              f"the template uses forbidden constructs: {exc}") from None
    except UndefinedError as exc:
        raise TemplateProblem(f"範本使用了系統沒有提供的欄位：{exc}", f"undefined variable: {exc}") from None
    except TemplateError as exc:
        raise TemplateProblem(f"範本語法錯誤：{exc}", f"template syntax error: {exc}") from None
    out = io.BytesIO()
    tpl.save(out)
    return out.getvalue()


def undeclared_variables(template: bytes) -> set[str]:
    check_package(template)
    tpl = DocxTemplate(io.BytesIO(template))
    try:
        return set(tpl.get_undeclared_template_variables(jinja_env=sandbox()))
    except TemplateError as exc:
        raise TemplateProblem(f"範本語法錯誤：{exc}", f"template syntax error: {exc}") from None


def validate_template(template: bytes, sample_context: Mapping[str, Any]) -> None:
    """What an upload must pass: opens as docx, uses only variables the context has, renders in the
    sandbox against a sample. Raises TemplateProblem saying what is wrong and how to fix it."""
    used = undeclared_variables(template)
    missing = sorted(used - set(sample_context) - set(sandbox().globals))
    if missing:
        raise TemplateProblem(
            f"範本使用了此文件沒有的欄位：{'、'.join(missing)}；可用欄位：{'、'.join(sorted(sample_context))}",
            f"the template uses variables this document does not have: {', '.join(missing)}",
        )
    render_docx(template, sample_context, load_image=lambda _k: _PIXEL)


def _tiny_png() -> bytes:
    """A 1x1 PNG for rendering samples with photos."""
    import struct
    import zlib

    def chunk(tag: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xc8\x64\x96")) + chunk(b"IEND", b""))


_PIXEL = _tiny_png()
