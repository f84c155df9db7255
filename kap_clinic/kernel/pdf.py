"""PDFs rendered from HTML by WeasyPrint, reading nothing but the project's own static files.

Documents link their stylesheets, fonts and images relative to `STATIC_BASE_URL` (e.g. `css/report.css`). The
fetcher given to WeasyPrint answers those addresses from the static files (the project's static folders through the
staticfiles finders, else STATIC_ROOT) and refuses everything else: no network (http, https, ftp), no file paths
(file:), no data from the document itself, and no way out of the static folders (`..`). A document built from patient
data therefore cannot make the server fetch a remote address or read a file.

Printing costs about a millisecond per element (mostly per table cell), so the path is kept lean: WeasyPrint styles
our documents with a user-agent stylesheet of only the elements they use (static/css/print-ua.css) instead of its full
HTML5 one, whitespace between block and table tags is dropped before parsing (it lays nothing out), and Python's
cyclic garbage collector waits until the document is printed (`collector_paused`).
"""

import gc
import mimetypes
import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit, uses_netloc, uses_relative

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.utils._os import safe_join

SCHEME = "kap-static"
STATIC_BASE_URL = f"{SCHEME}://static/"

# Relative links inside a document or stylesheet ("../fonts/x.ttf") join onto the static scheme like onto http.
for _schemes in (uses_relative, uses_netloc):
    if SCHEME not in _schemes:
        _schemes.append(SCHEME)


class RefusedURL(ValueError):
    """An address a document may not make the server fetch."""


def static_path(url: str) -> Path:
    """The static file behind a `kap-static://static/...` address; RefusedURL for any other address."""
    parts = urlsplit(url)
    if parts.scheme.lower() != SCHEME or parts.netloc != "static" or parts.query:
        raise RefusedURL(f"only the clinic's own static files may be read, not {parts.scheme or 'this'} addresses")
    relative = unquote(parts.path).lstrip("/")
    segments = relative.split("/")
    if not relative or any(segment in ("..", "") for segment in segments) or "\\" in relative or "\x00" in relative:
        raise RefusedURL("a static file is named by a plain relative path")
    relative = posixpath.normpath(relative)
    found = finders.find(relative)
    if found:
        return Path(found)
    try:
        candidate = Path(safe_join(str(settings.STATIC_ROOT), relative))
    except SuspiciousFileOperation as exc:
        raise RefusedURL("outside the static files") from exc
    if candidate.is_file():
        return candidate
    raise RefusedURL("no such static file")


def _fetcher():
    from weasyprint.urls import URLFetcher, URLFetcherResponse  # imported late: loading Pango is slow

    class StaticOnlyFetcher(URLFetcher):
        def fetch(self, url, headers=None):
            path = static_path(url)
            mime_type, encoding = mimetypes.guess_type(path.name)
            headers = {"Content-Type": mime_type or "application/octet-stream"}
            if encoding:
                headers["Content-Encoding"] = encoding
            return URLFetcherResponse(url, body=path.read_bytes(), headers=headers)

    return StaticOnlyFetcher(allowed_protocols=[SCHEME])


def static_url_fetcher(url: str):
    """WeasyPrint's fetcher for one address: the response for a static file, RefusedURL for anything else."""
    return _fetcher().fetch(url)


PRINT_UA_CSS = "css/print-ua.css"


@cache
def _document_class():
    """WeasyPrint's HTML document, styled by our user-agent stylesheet (print-ua.css) rather than its full HTML5 one.
    Only documents printed here use it."""
    from weasyprint import CSS, HTML  # imported late: loading Pango is slow and only PDFs need it

    user_agent = CSS(string=static_path(STATIC_BASE_URL + PRINT_UA_CSS).read_text(encoding="utf-8"))

    class ClinicDocument(HTML):
        def _ua_stylesheets(self, forms=False):
            return [user_agent]

    return ClinicDocument


# Whitespace next to a block-level or table tag is never laid out (it would be collapsed away), but tinyhtml5 parses
# each run into a text node and WeasyPrint carries it through styling and box building. Inline tags (span, b, a...)
# keep the whitespace around them, and the contents of elements are not touched.
_BLOCK_TAGS = (
    "html|head|meta|title|link|body|header|footer|main|section|article|div|h[1-6]|p|dl|dt|dd|ol|ul|li"
    "|table|caption|colgroup|col|thead|tbody|tfoot|tr|th|td"
)
_SPACE_BEFORE_BLOCK = re.compile(rf"(?<=>)\s+(?=</?(?:{_BLOCK_TAGS})[\s/>])", re.IGNORECASE)
_SPACE_AFTER_BLOCK = re.compile(rf"(</?(?:{_BLOCK_TAGS})(?:\s[^<>]*)?>)\s+(?=<)", re.IGNORECASE)


def without_layout_whitespace(html: str) -> str:
    """The document without the whitespace between tags that a block-level or table tag makes meaningless."""
    return _SPACE_AFTER_BLOCK.sub(r"\1", _SPACE_BEFORE_BLOCK.sub("", html))


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector paused for the block, then its state as before (even on error) and the
    block's young objects collected once. Printing builds hundreds of thousands of small objects that live until the
    PDF is written; the collector would otherwise walk them (and the whole process's heap) again and again. The pause
    is the process's: its web workers and task workers handle one request or task at a time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
            gc.collect(0)


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML document whose links are relative to `STATIC_BASE_URL`."""
    document = _document_class()
    with collector_paused():
        return document(
            string=without_layout_whitespace(html), base_url=STATIC_BASE_URL, url_fetcher=_fetcher()
        ).write_pdf()
