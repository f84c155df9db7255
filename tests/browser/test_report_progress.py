"""A background report's page follows its progress live, under the page's content security policy, and offers the
download once the worker is done."""

from datetime import timedelta

import pytest
from django.utils import timezone

from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.reports.models import ReportJob
from kap_clinic.reports.services import report_job_run
from tests.browser.test_sign_in import submit_code, submit_password
from tests.conftest import PASSWORD, make_user

try:
    from playwright.sync_api import expect
except ImportError:  # the `browser` fixture skips (or fails in CI) with the reason
    expect = None

pytestmark = pytest.mark.browser


def test_the_progress_bar_moves_and_the_download_appears(page, live_server):
    admin = make_user("reports-admin", Role.ADMIN)
    job = ReportJob.objects.create(
        requested_by=admin,
        kind="audit",
        parameters={"user": admin.pk, "format": "csv"},
        rows_total=400,
        rows_done=0,
        status=ReportJob.Status.RUNNING,
        idempotency_key="browser-job",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    page.goto("/accounts/login/?next=/reports/")
    submit_password(page, "reports-admin", PASSWORD)
    submit_code(page, "reports-admin")
    expect(page.get_by_test_id("reports-heading")).to_be_visible()
    page.goto(f"/reports/jobs/{job.pk}/")
    progress = page.get_by_test_id("job-progress")
    expect(progress).to_contain_text("0 of 400 rows")

    ReportJob.objects.filter(pk=job.pk).update(rows_done=200)
    expect(progress).to_contain_text("200 of 400 rows", timeout=10_000)  # polled, no reload
    expect(progress.locator("progress")).to_have_attribute("value", "50")

    ReportJob.objects.filter(pk=job.pk).update(status=ReportJob.Status.QUEUED)
    report_job_run(job_id=job.pk)  # the worker finishes it
    expect(page.get_by_test_id("job-download")).to_be_visible(timeout=10_000)
    with page.expect_download() as download:
        page.get_by_test_id("job-download").click()
    assert download.value.suggested_filename == "audit-reports-admin.csv"
