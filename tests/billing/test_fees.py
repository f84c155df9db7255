"""The fee schedule: seeded from the code reference (with the add-on and prolonged-service codes), priced per route
and per length of service, and left as the clinic edited it when seeded again."""

from decimal import Decimal

import pytest
from django.urls import reverse

from billing.ledger.fees import fee_lookup
from billing.models import FeeScheduleItem
from kap_clinic.kernel.reference_data import seed_reference_data

pytestmark = pytest.mark.django_db


def test_every_code_of_the_reference_is_priced_including_the_add_on_and_prolonged_codes():
    codes = set(FeeScheduleItem.objects.filter(is_active=True).values_list("code", flat=True))
    for code in [
        "90791",
        "90792",
        "90832",
        "90834",
        "90837",
        "90833",
        "90836",
        "90838",
        "90785",
        "99417",
        "99415",
        "99416",
        "G2082",
        "G2083",
        "J0013",
        "96365",
        "96366",
        "J3490",
        "96372",
        "99205",
        "99215",
    ]:
        assert code in codes, code
    assert "S0013" not in codes  # retired on 2026-01-01: never billed again (kept inactive, below)
    assert FeeScheduleItem.objects.get(code="G2083").price == Decimal("1289.82")


def test_a_route_has_its_own_price_before_the_any_route_one():
    assert fee_lookup("J3490", route="iv").price == Decimal("50.00")
    assert fee_lookup("J3490", route="im").price == Decimal("40.00")
    assert fee_lookup("99213", route="sublingual").price == Decimal("250.00")
    assert fee_lookup("99213", route="iv").price == Decimal("110.00")  # the office visit on its own


@pytest.mark.parametrize(
    ("minutes", "code"), [(16, "90832"), (37, "90832"), (38, "90834"), (52, "90834"), (53, "90837")]
)
def test_psychotherapy_prices_follow_the_time_rule(minutes, code):
    assert fee_lookup(code, minutes=minutes) is not None
    others = {"90832", "90834", "90837"} - {code}
    assert all(fee_lookup(other, minutes=minutes) is None for other in others)


def test_seeding_again_adds_nothing_and_keeps_the_clinics_price():
    fee = FeeScheduleItem.objects.get(code="90791")
    fee.price = Decimal("275.00")
    fee.save()
    count = FeeScheduleItem.objects.count()
    seed_reference_data()
    assert FeeScheduleItem.objects.count() == count
    assert FeeScheduleItem.objects.get(code="90791").price == Decimal("275.00")


def test_an_inactive_price_is_not_used():
    FeeScheduleItem.objects.filter(code="96372").update(is_active=False)
    assert fee_lookup("96372", route="im") is None


def test_staff_see_the_fee_schedule_and_admins_edit_it(client_for, front_desk, admin_user):
    page = client_for(front_desk).get(reverse("billing:fee_schedule"))
    assert page.status_code == 200
    assert b"+90785" in page.content and b"$1289.82" in page.content
    fee = FeeScheduleItem.objects.get(code="90785")
    admin = client_for(admin_user)
    change = reverse("admin:billing_feescheduleitem_change", args=[fee.pk])
    assert admin.get(change).status_code == 200
    data = {
        "code": "90785",
        "description": fee.description,
        "route": "",
        "min_minutes": "",
        "max_minutes": "",
        "price": "30.00",
        "unit": "service",
        "is_add_on": "on",
        "is_active": "on",
        "notes": "",
    }
    assert admin.post(change, data).status_code == 302
    assert FeeScheduleItem.objects.get(pk=fee.pk).price == Decimal("30.00")


def test_legacy_s0013_is_recorded_on_an_older_authorization_only_after_the_warning(client_for, front_desk, patient):
    from billing.models import PriorAuthorization
    from tests.billing.test_views import form_data

    client = client_for(front_desk)
    url = reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk})
    warned = client.post(url, form_data(codes="G2083, S0013"))
    assert warned.status_code == 400
    assert b"S0013 was replaced by J0013 on 2026-01-01." in warned.content
    assert b"Record a retired code anyway" in warned.content
    assert not PriorAuthorization.objects.exists()
    saved = client.post(url, form_data(codes="G2083, S0013", keep_retired_codes="on"))
    assert saved.status_code == 302
    authorization = PriorAuthorization.objects.get()
    assert authorization.codes == ["G2083", "S0013"]
    edit = client.get(reverse("billing:authorization_edit", kwargs={"pk": authorization.pk}))
    assert b'name="keep_retired_codes"' in edit.content and b"checked" in edit.content


def test_a_second_price_for_the_same_code_and_route_is_refused(client_for, admin_user):
    response = client_for(admin_user).post(
        reverse("admin:billing_feescheduleitem_add"),
        {"code": "+90785", "description": "Again", "route": "", "price": "10.00", "unit": "service", "is_active": "on"},
    )
    assert response.status_code == 200 and b"already has a price" in response.content
    assert FeeScheduleItem.objects.filter(code="90785").count() == 1


def test_legacy_s0013_is_in_the_schedule_inactive_never_priced_and_says_why(client_for, front_desk):
    legacy = FeeScheduleItem.objects.get(code="S0013")
    assert (legacy.is_active, legacy.price, legacy.route) == (False, Decimal("0.00"), "intranasal")
    assert "replaced by J0013 on 2026-01-01" in legacy.notes
    assert fee_lookup("S0013", route="intranasal") is None
    seed_reference_data()
    assert FeeScheduleItem.objects.filter(code="S0013").count() == 1
    page = client_for(front_desk).get(reverse("billing:fee_schedule")).content.decode()
    assert "No longer used" in page and "replaced by J0013 on 2026-01-01" in page


def test_an_admin_turning_s0013_back_on_is_warned(client_for, admin_user):
    legacy = FeeScheduleItem.objects.get(code="S0013")
    response = client_for(admin_user).post(
        reverse("admin:billing_feescheduleitem_change", args=[legacy.pk]),
        {
            "code": "S0013",
            "description": legacy.description,
            "route": "intranasal",
            "price": "10.50",
            "unit": "mg",
            "is_active": "on",
            "notes": legacy.notes,
        },
        follow=True,
    )
    assert response.status_code == 200
    assert b"S0013 was replaced by J0013 on 2026-01-01." in response.content


def test_an_authorization_naming_s0013_warns_admins_and_shows_it_on_its_page(
    client_for, front_desk, admin_user, patient
):
    from billing.models import PriorAuthorization
    from billing.services import authorization_update
    from kap_clinic.kernel.notifications.alerts import alerts_open_for
    from kap_clinic.kernel.notifications.models import StaffAlert
    from tests.billing.test_views import form_data

    client = client_for(front_desk)
    url = reverse("billing:authorization_create", kwargs={"patient_pk": patient.pk})
    assert client.post(url, form_data(codes="G2083, S0013", keep_retired_codes="on")).status_code == 302
    authorization = PriorAuthorization.objects.get()
    authorization_update(authorization=authorization, by=front_desk, notes="Saved again")  # warned once only

    alert = StaffAlert.objects.get(key=f"authorization-{authorization.pk}-retired-S0013")
    assert alert in alerts_open_for(admin_user) and "S0013 was replaced by J0013" in alert.summary
    page = client_for(admin_user).get(reverse("billing:authorization_detail", kwargs={"pk": authorization.pk}))
    assert b'data-testid="retired-codes"' in page.content
    assert b"redone under the new code" in page.content

    other = client.post(url, form_data(codes="G2083, J0013"))
    assert other.status_code == 302
    newer = PriorAuthorization.objects.exclude(pk=authorization.pk).get()
    page = client.get(reverse("billing:authorization_detail", kwargs={"pk": newer.pk}))
    assert b'data-testid="retired-codes"' not in page.content
    assert StaffAlert.objects.filter(key__contains="retired").count() == 1
