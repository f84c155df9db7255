"""Paging long lists at a cost that does not grow with the clinic.

A plain Paginator counts every matching row on every page view: on a log of years that count alone is most of the
page's time. `CappedPaginator` counts at most `cap` rows (the pages a person actually reads through) and says when
there are more, so the page shows "Page 1 of 200+" and stays as fast with ten years of history as with one.
"""

from collections.abc import Sequence
from functools import cached_property

from django.core.paginator import Page, Paginator
from django.db.models import Count, IntegerField, QuerySet, Window
from django.db.models.expressions import RawSQL

COUNT_CAP = 5000


def capped_count(rows: QuerySet, cap: int) -> int:
    """How many rows match, counting no further than `cap + 1` (one more than the cap tells there are more)."""
    return rows.order_by()[: cap + 1].count()


class CappedPaginator(Paginator):
    """A Paginator whose count stops at `cap` rows; `capped` says the list goes on beyond the last page offered."""

    def __init__(self, object_list, per_page, *, cap: int = COUNT_CAP, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap

    @cached_property
    def _counted(self) -> int:
        rows = self.object_list
        if isinstance(rows, QuerySet):
            return capped_count(rows, self.cap)
        return min(rows.count(), self.cap + 1)

    @cached_property
    def count(self) -> int:
        return min(self._counted, self.cap)

    @property
    def capped(self) -> bool:
        return self._counted > self.cap


def page_of(request, rows, per_page: int, *, param: str = "page") -> Page:
    """The page of `rows` the request asks for (`?page=`, or `param` where one screen pages two lists), counted no
    further than the cap and read once into a list (to record as read, then show).

    `page.query` is the request's other parameters (its filters, and the other list's page), `page.param` the name
    of this list's page parameter: `_pagination.html` builds its links from both, so paging keeps the filters.
    """
    page = CappedPaginator(rows, per_page).get_page(request.GET.get(param))
    page.object_list = list(page.object_list)
    query = request.GET.copy()
    query.pop(param, None)
    page.query, page.param = query.urlencode(), param
    return page


class Concatenated(Sequence):
    """Two querysets read one after the other as one list, for paging: each part keeps its own (indexed) order, so a
    page costs a bounded index scan rather than sorting every row by a computed key.

    Counting stops at `cap` rows per part (see CappedPaginator).
    """

    def __init__(self, first: QuerySet, then: QuerySet, *, cap: int = COUNT_CAP):
        self.first, self.then, self.cap = first, then, cap

    @cached_property
    def _first_count(self) -> int:
        return capped_count(self.first, self.cap)

    def count(self) -> int:
        return self._first_count + capped_count(self.then, self.cap)

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index):
        if not isinstance(index, slice):
            return self[index : index + 1][0]
        start, stop = index.start or 0, index.stop
        if stop is None or start < 0 or stop < 0:
            raise ValueError("Concatenated querysets are read in slices from the start.")
        split = self._first_count
        rows = []
        if start < split:
            rows += list(self.first[start : min(stop, split)])
        if stop > split:
            rows += list(self.then[max(start - split, 0) : stop - split])
        return rows


class Bounded(list):
    """The first rows of a work list, with how many more there are (`more`) and where the whole list is paged
    (`more_url`): a home page shows a fixed number of rows per list and links to the rest, whatever the clinic's size.
    `capped` says the count stopped short: there are more than `more` ("80+ more").
    """

    more: int = 0
    more_url: str = ""
    capped: bool = False


TOTAL = "listed_total"


def with_total(rows: QuerySet) -> QuerySet:
    """`rows`, each carrying how many rows the whole (unsliced) list has, counted by the database in the same query
    (a window count), so a bounded list costs one query however long it is."""
    return rows.annotate(**{TOTAL: Window(Count("pk"))})


def with_capped_total(rows: QuerySet, cap: int) -> QuerySet:
    """`rows`, each carrying how many rows the list has counted no further than `cap + 1`, in the same query (a
    subquery the database runs once): unlike a window count it stops reading once `cap + 1` rows are found, so it costs
    the same however long the list grows."""
    sql, params = rows.order_by().values("pk")[: cap + 1].query.sql_with_params()
    # The inner SQL is the ORM's own, its values passed as parameters.
    count = RawSQL(f"SELECT COUNT(*) FROM ({sql}) capped_rows", params, output_field=IntegerField())  # noqa: S608, S611
    return rows.annotate(**{TOTAL: count})


def bounded(rows, limit: int, *, more_url: str = "", cap: int | None = None) -> Bounded:
    """The first `limit` rows of `rows` (a queryset or a list) and a count of the rest, in one query.

    With `cap`, the count stops at `cap` rows (see `with_capped_total`): `more` is then at most `cap - limit`, and
    `capped` says there are more than that.
    """
    if isinstance(rows, QuerySet):
        counted = with_total(rows) if cap is None else with_capped_total(rows, cap)
        shown = Bounded(counted[:limit])
        total = getattr(shown[0], TOTAL) if shown else 0
    else:
        shown, total = Bounded(rows[:limit]), len(rows)
    if cap is not None and total > cap:
        total, shown.capped = cap, True
    shown.more = max(total - limit, 0)
    shown.more_url = more_url
    return shown
