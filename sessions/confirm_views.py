from django import forms
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from kap_clinic.kernel.audit.services import record_chart_view
from kap_clinic.kernel.validation import BoundedInput

from .confirmation import session_cannot_attend, session_confirm, session_for_confirm_token


class ConfirmForm(BoundedInput, forms.Form):
    driver_name = forms.CharField(max_length=120, strip=True)


@never_cache
def confirm_view(request, token):
    """The signed link in the dosing reminder: the token is the credential, and shows only the appointment time."""
    session = session_for_confirm_token(token)
    form = ConfirmForm(request.POST or None)
    if session is None:
        response = render(request, "sessions/confirm.html", {"session": None}, status=404)
        response._has_been_logged = True  # the path holds the token: keep it out of the logs
        return response
    record_chart_view(obj=session)  # whoever holds the link saw the appointment
    done = False
    if request.method == "POST" and request.POST.get("answer") == "cannot_attend":
        session_cannot_attend(session=session)
        return render(request, "sessions/confirm.html", {"session": session, "cannot_attend": True})
    if request.method == "POST":
        if form.is_valid():
            session_confirm(session=session, driver_name=form.cleaned_data["driver_name"])
            done = True
        else:
            return render(request, "sessions/confirm.html", {"session": session, "form": form}, status=400)
    return render(request, "sessions/confirm.html", {"session": session, "form": form, "done": done})
