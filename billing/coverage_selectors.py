"""Reads of coverage and pre-authorization work, with the access checks (404 for what the user may not see)."""

from django.db.models import QuerySet
from django.http import Http404

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import STAFF_ROLES
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


def get_work_item_for_user(user: User, pk: int) -> PreauthWorkItem:
    item = work_items_visible_to(user).filter(pk=pk).first()
    if item is None:
        raise Http404("No such work item.")
    return item
