from datetime import date, timedelta

import pytest
from django.urls import reverse

from kap_clinic.homes.selectors import CLINIC_SETUP_LINKS
from kap_clinic.kernel.clinic.models import WorkerHeartbeat
from kap_clinic.kernel.notifications.alerts import staff_alert_raise
from patients.models import Patient
from patients.services import patient_create

pytestmark = pytest.mark.django_db

HOME_HEADINGS = {
    "admin_user": "Clinic health",
    "clinician": "My patients",
    "front_desk": "Front desk",
    "patient_user": "My care",
}


@pytest.mark.parametrize("person", sorted(HOME_HEADINGS))
def test_each_role_lands_on_its_own_home(request, client_for, patient, person):
    user = request.getfixturevalue(person)
    response = client_for(user).get(reverse("homes:home"))
    assert response.status_code == 200
    assert HOME_HEADINGS[person] in response.content.decode()


def test_menus_follow_the_role(client_for, admin_user, patient_user, patient):
    admin_page = client_for(admin_user).get(reverse("homes:home")).content.decode()
    patient_page = client_for(patient_user).get(reverse("homes:home")).content.decode()
    assert reverse("homes:audit_log") in admin_page
    assert reverse("homes:audit_log") not in patient_page
    assert f'href="{reverse("patients:list")}"' not in patient_page
    assert reverse("patients:my_record") in patient_page


def test_admin_worker_check_runs_the_heartbeat_task_after_commit(
    client_for, admin_user, django_capture_on_commit_callbacks
):
    client = client_for(admin_user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post(reverse("clinic:worker_check"))
    assert response.status_code == 302
    assert len(callbacks) == 1
    beat = WorkerHeartbeat.objects.get()
    assert beat.source == WorkerHeartbeat.Source.CHECK
    assert beat.requested_by == admin_user


def test_clinician_home_keeps_constant_queries(client_for, clinician, django_assert_max_num_queries):
    def add_patients(count):
        for i in range(count):
            patient_create(
                created_by=None,
                given_name="A",
                family_name=f"B{i}",
                date_of_birth=date(1980, 1, 1),
                primary_clinician=clinician,
            )

    add_patients(1)
    client = client_for(clinician)
    client.get(reverse("homes:home"))  # warm the per-process caches
    # 15 with the sign-in checks and the request's savepoint; one of them gives every listed patient its PHQ-9
    # course, however many patients there are.
    with django_assert_max_num_queries(15) as few:
        assert client.get(reverse("homes:home")).status_code == 200
    add_patients(15)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(reverse("homes:home")).status_code == 200


def test_the_clinicians_patients_with_open_flags_come_first(client_for, clinician):
    patients = [
        patient_create(
            created_by=None,
            given_name="A",
            family_name=family,
            date_of_birth=date(1980, 1, 1),
            primary_clinician=clinician,
        )
        for family in ("Abbott", "Barnes", "Zimmer")
    ]
    client = client_for(clinician)
    page = client.get(reverse("homes:home")).content.decode()
    assert page.index("Abbott") < page.index("Barnes") < page.index("Zimmer")
    staff_alert_raise(
        kind="relapse",
        key="z-relapse",
        patient_id=patients[2].pk,
        clinician_id=clinician.pk,
        summary="PHQ-9 rose 6 points.",
    )
    page = client.get(reverse("homes:home")).content.decode()
    mine = page[page.index("Patients in my care") :]
    assert mine.index("Zimmer") < mine.index("Abbott") < mine.index("Barnes")
    assert mine.count(">Alert<") == 1


def test_admin_home_links_every_clinic_set_up_page_and_each_opens(client_for, admin_user):
    """Protocols, rooms, hours, closures, staff, reminder rules, payers, preparation texts, products: all reachable."""
    client = client_for(admin_user)
    page = client.get(reverse("homes:home")).content.decode()
    urls = [reverse(link.url_name) for link in CLINIC_SETUP_LINKS]
    for expected in (
        "accounts:staff_list",
        "clinic:settings",
        "admin:treatment_sessions_protocol_changelist",
        "admin:treatment_sessions_room_changelist",
        "admin:treatment_sessions_clinichours_changelist",
        "admin:treatment_sessions_clinicclosure_changelist",
        "admin:notifications_reminderrule_changelist",
        "admin:notifications_preparationtext_changelist",
        "admin:billing_payer_changelist",
        "admin:treatment_sessions_controlledproduct_changelist",
    ):
        assert reverse(expected) in urls, expected
    for link, url in zip(CLINIC_SETUP_LINKS, urls, strict=True):
        assert f'href="{url}"' in page, link.label
        assert client.get(url).status_code == 200, url


def test_the_back_office_wears_the_clinic_name_and_links_back(client_for, admin_user):
    page = client_for(admin_user).get(reverse("admin:index")).content.decode()
    assert "KAP Clinic administration" in page
    assert f'href="{reverse("homes:home")}" data-testid="back-to-clinic">Back to the clinic</a>' in page
    assert "View site" not in page
    assert "css/admin.css" in page


def test_intake_home_lists_new_referrals_but_not_enrolled_patients(client_for, front_desk, clinician):
    referred = patient_create(
        created_by=None,
        given_name="Rae",
        family_name="Newcombe",
        date_of_birth=date(1990, 1, 2),
        primary_clinician=clinician,
    )
    enrolled = patient_create(
        created_by=None,
        given_name="Eli",
        family_name="Settled",
        date_of_birth=date(1985, 3, 4),
        primary_clinician=clinician,
    )
    Patient.objects.filter(pk=enrolled.pk).update(status="enrolled")  # test setup: skips the enrollment gate

    body = client_for(front_desk).get(reverse("homes:home")).content.decode()
    referrals = body.split('data-testid="new-referrals"', 1)[1].split("</section>", 1)[0]

    assert "New referrals" in body
    assert referred.mrn in referrals
    assert enrolled.mrn not in referrals


def test_acknowledge_is_explained_where_the_button_is(client_for, clinician, patient):
    staff_alert_raise(
        kind="relapse",
        key=f"words-{patient.pk}",
        patient_id=patient.pk,
        clinician_id=clinician.pk,
        summary="PHQ-9 rose",
        link="",
        urgent=False,
    )

    body = client_for(clinician).get(reverse("homes:home")).content.decode()

    assert 'data-testid="acknowledge-help"' in body


def test_the_admin_home_counts_this_weeks_sessions_per_route(client_for, admin_user, patient, other_patient):
    """Clinic health: the week's dosing sessions per route, booked, completed and not held, every route listed."""
    from django.utils import timezone

    from sessions.models import DosingSession, Route
    from sessions.selectors import week_by_route
    from tests.sessions.test_portal import book_plan

    nasal = book_plan(patient, patient.primary_clinician, route="intranasal")
    book_plan(other_patient, other_patient.primary_clinician, room_name="Room B", route="iv")
    first = nasal.sessions.order_by("starts_at").first()
    DosingSession.objects.filter(pk=first.pk).update(status=DosingSession.Status.NO_SHOW)
    day = timezone.localtime(first.starts_at).date()
    monday = day - timedelta(days=day.weekday())

    expected = {value: [0, 0, 0] for value in Route.values}
    for s in DosingSession.objects.select_related("protocol"):
        if monday <= timezone.localtime(s.starts_at).date() <= monday + timedelta(days=6):
            column = {"completed": 1, "no_show": 2, "cancelled": 2}.get(s.status, 0)
            expected[s.protocol.route][column] += 1
    week = week_by_route(day)
    assert week["monday"] == monday
    assert [(r["upcoming"], r["completed"], r["not_held"]) for r in week["rows"]] == [
        tuple(expected[value]) for value in Route.values
    ]
    assert week["rows"][Route.values.index("intranasal")]["not_held"] == 1
    assert week["total"]["upcoming"] == sum(counts[0] for counts in expected.values()) > 0

    body = client_for(admin_user).get(reverse("homes:home")).content.decode()
    this_week = week_by_route(timezone.localdate())
    assert "Sessions this week" in body
    for label in Route.labels:
        assert label in body
    assert f"?day={this_week['monday'].isoformat()}&amp;span=week" in body
