"""The clinic admin role cannot exceed itself (security issue, item 2).

Staff accounts, roles and deactivation are managed on the clinic's staff pages; superuser and staff status,
groups and permissions are editable by nobody but a superuser, in the Django admin (break-glass).
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import ROLE_PERMISSIONS, Role, group_name
from tests.conftest import PASSWORD, make_user, sign_in

pytestmark = pytest.mark.django_db


def _user_change_post(user):
    return {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": "",
        "role": user.role,
        "is_active": "on",
        "is_staff": "on",
        "is_superuser": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }


def test_clinic_admin_cannot_make_themselves_superuser_in_the_django_admin(client, admin_user):
    """The reported path: tick "superuser" on one's own user, then read TOTP secrets and delete patients."""
    sign_in(client, admin_user)
    change = reverse("admin:accounts_user_change", args=[admin_user.pk])
    assert client.get(change).status_code == 403
    assert client.post(change, _user_change_post(admin_user)).status_code == 403
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 403
    assert client.get(reverse("admin:auth_group_changelist")).status_code == 403
    assert client.get(reverse("admin:otp_totp_totpdevice_changelist")).status_code == 403
    admin_user.refresh_from_db()
    assert not admin_user.is_superuser
    assert not admin_user.has_perm("patients.delete_patient")


def test_clinic_admin_still_edits_reference_data_in_the_django_admin(client, admin_user):
    sign_in(client, admin_user)
    assert client.get(reverse("admin:index")).status_code == 200
    assert client.get(reverse("admin:treatment_sessions_room_changelist")).status_code == 200
    assert client.get(reverse("admin:billing_payer_add")).status_code == 200


def test_superusers_keep_the_django_admin_user_pages(client):
    root = User.objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    TOTPDevice.objects.create(user=root, name="root", confirmed=True)  # superusers sign in with a code too
    make_user("doc", Role.CLINICIAN)
    sign_in(client, root)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_user_change", args=[root.pk])).status_code == 200


def test_staff_page_creates_an_account_with_its_role_and_nothing_more(client, admin_user):
    sign_in(client, admin_user)
    response = client.post(
        reverse("accounts:staff_create"),
        {
            "username": "newintake",
            "first_name": "Nia",
            "last_name": "New",
            "email": "nia@example.org",
            "role": Role.INTAKE,
            "password1": "a-long-enough-passphrase-7",
            "password2": "a-long-enough-passphrase-7",
            # Fields the page does not have; a crafted form cannot set them either.
            "is_superuser": "on",
            "is_staff": "on",
            "groups": [Group.objects.get(name=group_name(Role.ADMIN)).pk],
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newintake")
    assert (user.role, user.is_superuser, user.is_staff) == (Role.INTAKE, False, False)
    assert list(user.groups.values_list("name", flat=True)) == [group_name(Role.INTAKE)]
    assert user.check_password("a-long-enough-passphrase-7")
    assert "newintake" in client.get(reverse("accounts:staff_list")).content.decode()


def test_staff_page_refuses_patient_roles_and_weak_passwords(client, admin_user):
    sign_in(client, admin_user)
    data = {"username": "x", "first_name": "X", "last_name": "Y", "email": "x@example.org"}
    response = client.post(reverse("accounts:staff_create"), {**data, "role": Role.PATIENT, "password1": "short"})
    assert response.status_code == 400
    assert not User.objects.filter(username="x").exists()


def test_staff_page_changes_a_role_and_deactivates_an_account(client, admin_user, clinician):
    doc_client = Client()  # the clinician's own session, open meanwhile
    sign_in(doc_client, clinician)
    assert doc_client.get(reverse("sessions:cs_lot_list")).status_code == 200
    sign_in(client, admin_user)
    edit = reverse("accounts:staff_edit", args=[clinician.pk])
    form = {"username": clinician.username, "first_name": "C", "last_name": "D", "email": "c@example.org"}
    assert client.post(edit, {**form, "role": Role.INTAKE, "is_active": "on"}).status_code == 302
    clinician.refresh_from_db()
    assert clinician.role == Role.INTAKE
    assert list(clinician.groups.values_list("name", flat=True)) == [group_name(Role.INTAKE)]
    assert doc_client.get(reverse("sessions:cs_lot_list")).status_code == 403  # their group decides at once

    assert client.post(edit, {**form, "role": Role.INTAKE}).status_code == 302  # "Active" unticked
    clinician.refresh_from_db()
    assert not clinician.is_active
    assert doc_client.get(reverse("homes:home"))["Location"].startswith(reverse("accounts:login"))


def test_admins_cannot_deactivate_themselves_or_drop_their_own_role(client, admin_user):
    sign_in(client, admin_user)
    edit = reverse("accounts:staff_edit", args=[admin_user.pk])
    form = {"username": admin_user.username, "first_name": "A", "last_name": "B", "email": "a@example.org"}
    assert client.post(edit, {**form, "role": Role.ADMIN}).status_code == 400
    assert client.post(edit, {**form, "role": Role.CLINICIAN, "is_active": "on"}).status_code == 400
    admin_user.refresh_from_db()
    assert admin_user.is_active and admin_user.role == Role.ADMIN


def test_staff_pages_do_not_reach_patients_accounts_or_superusers(client, admin_user, patient_user):
    root = User.objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    sign_in(client, admin_user)
    for user in (patient_user, root):
        assert client.get(reverse("accounts:staff_edit", args=[user.pk])).status_code == 404
        assert client.post(reverse("accounts:staff_two_factor_reset", args=[user.pk])).status_code == 404
    body = client.get(reverse("accounts:staff_list")).content.decode()
    assert "root" not in body and patient_user.username not in body


def test_each_role_group_holds_exactly_the_permissions_roles_py_gives_it(db):
    for role, perms in ROLE_PERMISSIONS.items():
        group = Group.objects.get(name=group_name(role))
        held = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
        assert held == set(perms), role


def test_role_groups_are_read_only_in_the_django_admin(client):
    """roles.py is the one source: a superuser sees the groups' permissions but changes them only there."""
    root = User.objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    TOTPDevice.objects.create(user=root, name="root", confirmed=True)
    sign_in(client, root)
    group = Group.objects.get(name=group_name(Role.CLINICIAN))
    change = reverse("admin:auth_group_change", args=[group.pk])
    assert client.get(change).status_code == 200
    assert client.post(change, {"name": group.name, "permissions": []}).status_code == 403
    assert group.permissions.count() == len(ROLE_PERMISSIONS[Role.CLINICIAN])


def test_links_and_views_agree_on_registering_and_editing_patients(client_for, admin_user, front_desk, patient):
    for user in (admin_user, front_desk):
        client = client_for(user)
        assert "Register a patient" in client.get(reverse("patients:list")).content.decode()
        assert client.get(reverse("patients:create")).status_code == 200
        assert ">Edit</a>" in client.get(reverse("homes:patient_chart", args=[patient.pk])).content.decode()
        assert client.get(reverse("patients:edit", args=[patient.pk])).status_code == 200


def test_templates_check_permissions_not_role_names():
    """Links ask the same permission as the view they lead to (perms.accounts.role_*), never `user.role`."""
    offenders = [
        str(path)
        for path in Path(settings.BASE_DIR, "templates").rglob("*.html")
        if "user.role ==" in path.read_text() or "user.role !=" in path.read_text()
    ]
    assert offenders == []


def test_a_superuser_works_in_the_clinic_pages_as_an_admin_not_as_every_role(db):
    root = User.objects.create_superuser(username="root", password=PASSWORD, email="root@example.org")
    assert root.has_role(Role.ADMIN)
    assert not root.has_role(Role.CLINICIAN) and not root.has_role(Role.PATIENT)
    assert root.has_perm("patients.delete_patient")  # the Django admin's break-glass powers stay


def test_a_roles_own_permissions_are_answered_without_a_query(front_desk, django_assert_num_queries):
    """A page asks `perms.patients.add_patient` for its "Register a patient" button: the role holds it, no query.
    A permission the role does not hold is still asked of the database, so one granted to the user alone counts."""
    from django.contrib.auth.models import Permission

    with django_assert_num_queries(0):
        assert front_desk.has_perm("patients.add_patient")
    assert not front_desk.has_perm("billing.view_invoice")
    front_desk.user_permissions.add(Permission.objects.get(codename="view_invoice", content_type__app_label="billing"))
    front_desk = User.objects.get(pk=front_desk.pk)  # permissions are cached per loaded user
    assert front_desk.has_perm("billing.view_invoice")
    front_desk.is_active = False
    assert not front_desk.has_perm("patients.add_patient")
