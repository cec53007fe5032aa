"""Any text (markup, control characters, any plane) in a field renders to a valid .docx whose text round-trips."""

from __future__ import annotations

import io
import re
import zipfile

import docx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from documents import render, service, templates_admin
from documents.text import docx_text

pytestmark = [pytest.mark.fault]

TEMPLATE = (service.TEMPLATES / "sign_memo.docx").read_bytes()
SAMPLE = templates_admin.sample_context("sign_memo")
# XML 1.0 forbids these (and Word with it); the renderer drops them (documents.render.clean_text).
ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
TEXT = st.text(alphabet=st.one_of(st.sampled_from('&<>"\'{}%#\x00\x07\x0b\x1f\t\ufffe'), st.characters()),
               min_size=1, max_size=60)


def _render(subject: str) -> bytes:
    return render.render_docx(TEMPLATE, {**SAMPLE, "subject": subject})


@settings(max_examples=60, deadline=None)
@given(TEXT)
def test_any_text_renders_to_a_valid_docx_that_round_trips(value: str) -> None:
    data = _render(f"«{value}»")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            if name.endswith(".xml") or name.endswith(".rels"):
                etree.fromstring(zf.read(name))  # every part is well-formed XML
    docx.Document(io.BytesIO(data))  # and the package opens
    expected = ILLEGAL.sub("", value)
    # Whitespace is laid out by Word's runs (tabs, line breaks): compare without it.
    flat = "".join(docx_text(data).split())
    assert "«" + "".join(expected.split()) + "»" in flat


def test_the_markup_characters_are_text_not_markup() -> None:
    data = _render('A&B <w:p/> "q" {{ 7*7 }} \x07')
    text = docx_text(data)
    assert 'A&B <w:p/> "q" {{ 7*7 }}' in text and "49" not in text and "\x07" not in text
