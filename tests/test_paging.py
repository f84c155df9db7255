"""Long lists count at most a cap of rows and say when there are more."""

import pytest
from django.template.loader import render_to_string

from kap_clinic.kernel.accounts.models import User
from kap_clinic.kernel.accounts.roles import Role
from kap_clinic.kernel.paging import CappedPaginator, Concatenated

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    User.objects.bulk_create(User(username=f"u{i:02}", role=Role.INTAKE) for i in range(12))
    return User.objects.order_by("username")


def test_a_count_stops_at_the_cap_and_says_there_are_more(users):
    paginator = CappedPaginator(users, 2, cap=5)
    assert (paginator.count, paginator.num_pages, paginator.capped) == (5, 3, True)
    page = paginator.get_page(3)
    assert [u.username for u in page.object_list] == ["u04"]
    html = render_to_string("_pagination.html", {"page": page})
    assert "Page 3 of 3+" in html


def test_under_the_cap_the_count_is_exact(users):
    paginator = CappedPaginator(users, 5, cap=100)
    assert (paginator.count, paginator.num_pages, paginator.capped) == (12, 3, False)
    assert "Page 1 of 3<" in render_to_string("_pagination.html", {"page": paginator.get_page(1)})


def test_two_querysets_page_as_one_list(users):
    rows = Concatenated(users.filter(username__lt="u05"), users.filter(username__gte="u05").order_by("-username"))
    pages = CappedPaginator(rows, 4)
    names = [u.username for n in pages.page_range for u in pages.page(n).object_list]
    assert names == ["u00", "u01", "u02", "u03", "u04", "u11", "u10", "u09", "u08", "u07", "u06", "u05"]


def test_a_page_of_a_list_keeps_the_filters_and_the_other_lists_page_in_its_links(users, rf):
    from kap_clinic.kernel.paging import page_of

    request = rf.get("/", {"status": "open", "invoices_page": "2", "charges_page": "2"})
    page = page_of(request, users, 5, param="charges_page")
    assert [u.username for u in page.object_list] == ["u05", "u06", "u07", "u08", "u09"]
    html = render_to_string("_pagination.html", {"page": page})
    assert "?status=open&amp;invoices_page=2&charges_page=3" in html
    assert "?status=open&amp;invoices_page=2&charges_page=1" in html
