"""WeasyPrint reads the project's own static files and nothing else: no network, no file outside static."""

import pytest

from kap_clinic.kernel.pdf import STATIC_BASE_URL, RefusedURL, render_pdf, static_path, static_url_fetcher
from tests.reports.helpers import pdf_text


def test_static_files_are_read():
    response = static_url_fetcher(STATIC_BASE_URL + "css/report.css")
    assert b"@page" in response.read() and response.content_type == "text/css"
    assert static_path(STATIC_BASE_URL + "fonts/DejaVuSans.ttf").name == "DejaVuSans.ttf"


@pytest.mark.parametrize(
    "url",
    [
        "https://example.org/logo.png",
        "http://169.254.169.254/latest/meta-data/",
        "ftp://example.org/file",
        "file:///etc/passwd",
        "data:text/plain,hello",
        "/etc/passwd",
        STATIC_BASE_URL + "../../etc/passwd",
        STATIC_BASE_URL + "css/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "kap-static://elsewhere/css/report.css",
        STATIC_BASE_URL + "css/no-such-file.css",
    ],
)
def test_remote_addresses_and_paths_outside_static_are_refused(url):
    with pytest.raises(RefusedURL):
        static_url_fetcher(url)


def test_a_document_cannot_pull_in_a_local_file_or_a_remote_address(tmp_path):
    secret = tmp_path / "secret.css"
    secret.write_text('body::after { content: "TOP-SECRET-VALUE"; }')
    html = (
        f'<html><head><link rel="stylesheet" href="file://{secret}">'
        '<link rel="stylesheet" href="https://example.org/x.css"></head>'
        f'<body><p>Plain text</p><img src="file://{secret}"></body></html>'
    )
    text = pdf_text(render_pdf(html))
    assert "Plain text" in text and "TOP-SECRET-VALUE" not in text
