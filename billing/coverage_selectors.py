"""Reads of coverage and pre-authorization work, with the access checks (404 for what the user may not see)."""

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
from kap_clinic.kernel.urltags import row_address
from patients.selectors import visible_through

from .models import InsurancePolicy, PreauthWorkItem


def policies_visible_to(user: User) -> QuerySet[InsurancePolicy]:
    qs = InsurancePolicy.objects.select_related("patient", "payer")
    if not user.is_authenticated or user.role not in STAFF_ROLES:
        return qs.none()
    return qs.filter(visible_through(user, "patient"))


def get_policy_for_user(user: User, pk: int) -> InsurancePolicy:
    policy = policies_visible_to(user).filter(pk=pk).first()
    if policy is None:
        raise Http404("No such policy.")
    return policy


def work_items_visible_to(user: User) -> QuerySet[PreauthWorkItem]:
    qs = PreauthWorkItem.objects.select_related("authorization__patient", "authorization__payer")
    if not user.is_authenticated or user.role not in STAFF_ROLES:
        return qs.none()
    return qs.filter(visible_through(user, "authorization__patient"))


# What the work list shows of an item and its request: the columns it prints, no more (the payer is not shown).
WORK_LIST_COLUMNS = (
    "authorization_id",
    "kind",
    "summary",
    "created_at",
    "authorization__patient_id",
    "authorization__reference",
    "authorization__patient__mrn",
)
_KINDS = dict(PreauthWorkItem.Kind.choices)


def open_work_items(user: User) -> QuerySet[PreauthWorkItem]:
    """The work not yet done on requests `user` may see, the oldest first (in the order of the open-work index), with
    only the columns the work list shows."""
    return (
        work_items_visible_to(user)
        .select_related(None)
        .select_related("authorization__patient")
        .only(*WORK_LIST_COLUMNS)
        .filter(done_at__isnull=True)
        .order_by("created_at", "pk")
    )


def with_display(items: list[PreauthWorkItem]) -> list[PreauthWorkItem]:
    """The items shown on a page, each with what its row prints worked out once: the day it was raised (`since`, in
    the clinic's time), its kind in words (`kind_label`), how its request is named (`request_label`: the payer's
    reference, else the request's number) and the addresses it links to (`chart_url`, `request_url`, `packet_url`,
    `done_url`)."""
    chart, request = row_address("homes:patient_chart"), row_address("billing:authorization_detail")
    packet, done = row_address("billing:authorization_packet"), row_address("billing:preauth_work_done")
    for item in items:
        authorization = item.authorization
        item.since = timezone.localdate(item.created_at).isoformat()
        item.kind_label = _KINDS.get(item.kind, item.kind)
        item.request_label = authorization.reference or str(authorization.pk)
        item.chart_url, item.request_url = chart(authorization.patient_id), request(authorization.pk)
        item.packet_url = packet(authorization.pk) if item.kind == PreauthWorkItem.Kind.SEND else ""
        item.done_url = done(item.pk)
    return items


def get_work_item_for_user(user: User, pk: int) -> PreauthWorkItem:
    item = work_items_visible_to(user).filter(pk=pk).first()
    if item is None:
        raise Http404("No such work item.")
    return item
