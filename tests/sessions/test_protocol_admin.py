import pytest
from django.urls import reverse

from sessions.models import Protocol

pytestmark = pytest.mark.django_db


def test_admins_maintain_protocols_in_the_back_office(client_for, admin_user):
    from kap_clinic.kernel.accounts.roles import sync_role_groups

    sync_role_groups()
    client = client_for(admin_user)
    protocol = Protocol.objects.get(route="iv")
    assert client.get(reverse("admin:treatment_sessions_protocol_changelist")).status_code == 200
    page = client.get(reverse("admin:treatment_sessions_protocol_change", args=[protocol.pk]))
    assert page.status_code == 200
    assert protocol.name in page.content.decode()
    assert "induction" in page.content.decode()  # its phases are edited inline


def test_a_protocol_is_retired_not_deleted(client_for, admin_user):
    from kap_clinic.kernel.accounts.roles import sync_role_groups

    sync_role_groups()
    protocol = Protocol.objects.get(route="iv")
    response = client_for(admin_user).post(
        reverse("admin:treatment_sessions_protocol_delete", args=[protocol.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert Protocol.objects.filter(pk=protocol.pk).exists()


def test_clinicians_cannot_edit_protocols(client_for, clinician):
    response = client_for(clinician).get(reverse("admin:treatment_sessions_protocol_changelist"))
    assert response.status_code == 302
