"""PDFs rendered from HTML by WeasyPrint, reading nothing but the project's own static files.

Documents link their stylesheets, fonts and images relative to `STATIC_BASE_URL` (e.g. `css/report.css`). The
fetcher given to WeasyPrint answers those addresses from the static files (the project's static folders through the
staticfiles finders, else STATIC_ROOT) and refuses everything else: no network (http, https, ftp), no file paths
(file:), no data from the document itself, and no way out of the static folders (`..`). A document built from patient
data therefore cannot make the server fetch a remote address or read a file.
"""

import mimetypes
import posixpath
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


def render_pdf(html: str) -> bytes:
    """The PDF of an HTML document whose links are relative to `STATIC_BASE_URL`."""
    from weasyprint import HTML  # imported late: loading Pango is slow and only PDFs need it

    return HTML(string=html, base_url=STATIC_BASE_URL, url_fetcher=_fetcher()).write_pdf()
