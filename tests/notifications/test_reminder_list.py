"""The reminders page and a long treatment plan scale: nearest first, by pages, with a bounded number of queries."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from kap_clinic.kernel.notifications.models import Reminder, ReminderRule
from sessions.models import DosingSession
from tests.sessions.test_portal import book_plan

pytestmark = pytest.mark.django_db


def add_reminders(session, count: int, *, first_offset_hours: int):
    """`count` SMS reminders of one session, an hour apart, the first `first_offset_hours` from now."""
    rule = ReminderRule.objects.filter(event="dosing_session").first()
    now = timezone.now().replace(microsecond=0)
    Reminder.objects.bulk_create(
        Reminder(
            session=session,
            patient_id=session.patient_id,
            rule=rule,
            channel="sms",
            scheduled_for=now + timedelta(hours=first_offset_hours + i),
            next_try_at=now + timedelta(hours=first_offset_hours + i),
            event_at=session.starts_at,
            status="sent" if first_offset_hours + i < 0 else "pending",
            sent_at=now if first_offset_hours + i < 0 else None,
        )
        for i in range(count)
    )


@pytest.fixture
def session(patient, clinician):
    plan = book_plan(patient, clinician)
    Reminder.objects.all().delete()
    return plan.sessions.order_by("starts_at").first()


def test_upcoming_first_soonest_at_the_top_then_the_past_latest_first(session, client_for, front_desk):
    add_reminders(session, 3, first_offset_hours=-3)  # -3, -2, -1 h: past
    add_reminders(session, 3, first_offset_hours=5)  # 5, 6, 7 h: upcoming
    page = client_for(front_desk).get(reverse("notifications:list"))
    shown = [r.scheduled_for - timezone.now() for r in page.context["reminders"]]
    hours = [round(delta.total_seconds() / 3600) for delta in shown]
    assert hours == [5, 6, 7, -1, -2, -3]
    year = str(timezone.localtime(page.context["reminders"][0].scheduled_for).year)
    assert year in page.content.decode()


def test_reminders_come_in_pages_of_50_keeping_the_filter(session, client_for, front_desk):
    add_reminders(session, 120, first_offset_hours=1)
    client = client_for(front_desk)
    first = client.get(reverse("notifications:list"), {"status": "pending"})
    assert len(first.context["reminders"]) == 50
    assert first.context["page"].paginator.num_pages == 3
    assert "?status=pending&page=2" in first.content.decode()
    second = client.get(reverse("notifications:list"), {"status": "pending", "page": 2})
    assert second.status_code == 200 and len(second.context["reminders"]) == 50
    assert set(first.context["reminders"]).isdisjoint(second.context["reminders"])
    third = client.get(reverse("notifications:list"), {"status": "pending", "page": 3})
    assert len(third.context["reminders"]) == 20


def test_the_reminders_page_keeps_constant_queries(session, client_for, front_desk, django_assert_max_num_queries):
    client = client_for(front_desk)
    add_reminders(session, 5, first_offset_hours=1)
    with django_assert_max_num_queries(20) as few:
        client.get(reverse("notifications:list"))
    add_reminders(session, 115, first_offset_hours=10)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("notifications:list")).status_code == 200


def test_a_plan_with_hundreds_of_sessions_pages(session, client_for, clinician, django_assert_max_num_queries):
    plan = session.plan
    last = plan.sessions.order_by("-starts_at").first()
    extra = [
        DosingSession(
            plan=plan,
            patient=plan.patient,
            protocol=last.protocol,
            sequence=last.sequence + i,
            phase="Maintenance",
            kind="booster",
            planned_dose=last.planned_dose,
            room=last.room,
            clinician=clinician,
            starts_at=last.starts_at + timedelta(days=14 * i),
            ends_at=last.ends_at + timedelta(days=14 * i),
            dose_window_ends_at=last.dose_window_ends_at + timedelta(days=14 * i),
        )
        for i in range(1, 121)
    ]
    client = client_for(clinician)
    url = reverse("sessions:plan_detail", kwargs={"pk": plan.pk})
    with django_assert_max_num_queries(60) as few:
        client.get(url)
    DosingSession.objects.bulk_create(extra)
    total = plan.sessions.count()
    with django_assert_max_num_queries(len(few.captured_queries) + 1):
        response = client.get(url)
    assert len(response.context["sessions"]) == 50
    assert response.context["page"].paginator.count == total
    second = client.get(url, {"page": 2})
    assert second.status_code == 200 and len(second.context["sessions"]) == 50
    assert "page=2" in response.content.decode()


def test_pages_run_on_from_the_upcoming_into_the_past_without_gaps(session, client_for, front_desk):
    add_reminders(session, 30, first_offset_hours=-30)  # -30 ... -1 h: past
    add_reminders(session, 40, first_offset_hours=2)  # 2 ... 41 h: upcoming
    client = client_for(front_desk)
    first = client.get(reverse("notifications:list"))
    second = client.get(reverse("notifications:list"), {"page": 2})
    shown = [*first.context["reminders"], *second.context["reminders"]]
    hours = [round((r.scheduled_for - timezone.now()).total_seconds() / 3600) for r in shown]
    assert hours == [*range(2, 42), *range(-1, -31, -1)]
    assert first.context["page"].paginator.count == 70
    assert "Page 1 of 2</span>" in first.content.decode()


def test_a_failed_reminder_shows_its_attempts_in_order_and_a_resend_form(session, client_for, front_desk):
    add_reminders(session, 1, first_offset_hours=-2)
    add_reminders(session, 1, first_offset_hours=3)
    failed = Reminder.objects.filter(scheduled_for__lt=timezone.now()).get()
    Reminder.objects.filter(pk=failed.pk).update(status="failed", attempts=2, status_reason="Number <unreachable>")
    for number, outcome in ((2, "failed"), (1, "unknown")):
        failed.attempts_made.create(number=number, outcome=outcome, reason="No <answer>", idempotency_key=f"k{number}")
    page = client_for(front_desk).get(reverse("notifications:list")).content.decode()
    first = page.index("1: After a crash: unknown, flagged for staff — No &lt;answer&gt;")
    assert first < page.index("2: Refused or failed — No &lt;answer&gt;")
    assert "Number &lt;unreachable&gt;" in page
    resend = f'<form method="post" action="{reverse("notifications:resend", args=[failed.pk])}">'
    assert page.count(resend) == 1 and page.count("Send again") == 1  # the upcoming one has no form
    assert page[page.index(resend) :].startswith(resend + '<input type="hidden" name="csrfmiddlewaretoken"')


def test_the_resend_form_posts_with_the_token_the_page_wrote(session, client_for, front_desk):
    add_reminders(session, 1, first_offset_hours=-2)
    failed = Reminder.objects.get()
    Reminder.objects.filter(pk=failed.pk).update(status="failed", attempts=1, status_reason="Number unreachable")
    client = client_for(front_desk)
    client.handler.enforce_csrf_checks = True
    page = client.get(reverse("notifications:list")).content.decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    resend = reverse("notifications:resend", args=[failed.pk])

    assert client.post(resend).status_code == 403  # no token: refused
    assert client.post(resend, {"csrfmiddlewaretoken": token}).status_code == 302
    failed.refresh_from_db()
    assert failed.status != "failed"
