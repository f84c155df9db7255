"""The 500 page: says the team was told only when error mail (ADMINS) is configured, since only then is it true."""

from django.conf import settings
from django.http import HttpResponseServerError
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def server_error(request):
    # A plain context, as Django's own handler uses: context processors may need the database that just failed.
    html = loader.get_template("500.html").render({"team_told": bool(settings.ADMINS)})
    return HttpResponseServerError(html)
