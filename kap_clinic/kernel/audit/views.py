from django.core.paginator import Paginator
from django.shortcuts import render

from kap_clinic.kernel.accounts.decorators import role_required
from kap_clinic.kernel.accounts.roles import Role

from .forms import AuditFilterForm
from .selectors import audit_entries


@role_required(Role.ADMIN)
def audit_log_view(request):
    form = AuditFilterForm(request.GET or None)
    entries = audit_entries()
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        entries = audit_entries(
            patient_id=data["patient"].pk if data["patient"] else None,
            actor_id=data["user"].pk if data["user"] else None,
            start=data["start"],
            end=data["end"],
        )
    elif form.is_bound:
        entries = entries.none()
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    ctx = {"form": form, "page": page, "query": query.urlencode()}
    return render(request, "audit/log_list.html", ctx, status=400 if form.errors else 200)
