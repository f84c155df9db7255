"""`{% url %}` for every template, with the address of a link worked out once per page kind, not per row or page.

A list of sixty sessions links each row to a chart, a record and a check-in: Django's `reverse()` walks the URL
patterns (and asks the active language, prefix and URL configuration through context-locals) for every one of them,
which on the home pages cost more than the rows' queries. Here a link named with whole-number ids (`{% url
'homes:patient_chart' s.patient_id %}`) is reversed once with stand-in numbers; the address with the stand-ins
replaced is kept (per URL configuration, script prefix, language and application namespace), and every later row
only puts its own numbers in; a link without arguments (the menu's, the admin's set-up links) is kept whole. Anything
else (keyword arguments, text, negative numbers, `as` variables) goes to Django's own tag unchanged. Registered as a
template builtin in settings, so templates use `{% url %}` as usual.
"""

from collections.abc import Callable

from django import template
from django.conf import settings
from django.template.defaulttags import URLNode, url
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

# Stand-ins: long enough never to occur in an address by chance, distinct per position.
_STAND_INS = tuple(str(7_319_000_000_000_000_000 + n) for n in range(4))
_addresses: dict[tuple, tuple[str, ...] | None] = {}


def _current_app(context) -> str | None:
    request = getattr(context, "request", None)
    current_app = getattr(request, "current_app", None)
    if current_app is None:
        current_app = getattr(getattr(request, "resolver_match", None), "namespace", None)
    return current_app


def address_parts(view_name: str, count: int, current_app: str | None) -> tuple[str, ...] | None:
    """The address of `view_name` with `count` whole-number arguments, split around where they go (None: the
    address does not take them in order as written, so it is reversed each time)."""
    key = (get_urlconf() or settings.ROOT_URLCONF, get_script_prefix(), get_language(), current_app, view_name, count)
    if key not in _addresses:
        stand_ins = _STAND_INS[:count]
        try:
            address = reverse(view_name, args=stand_ins, current_app=current_app)
        except NoReverseMatch:
            _addresses[key] = None  # Django's own tag says why
            return None
        parts: list[str] = []
        rest = address
        for stand_in in stand_ins:
            before, found, rest = rest.partition(stand_in)
            if not found or stand_in in rest:
                parts = []
                break
            parts.append(before)
        _addresses[key] = (*parts, rest) if parts or not stand_ins else None
    return _addresses[key]


class RowURLNode(URLNode):
    def render(self, context):
        if self.kwargs or self.asvar or len(self.args) > len(_STAND_INS):
            return super().render(context)
        args = [arg.resolve(context) for arg in self.args]
        if not all(type(arg) is int and arg >= 0 for arg in args):
            return super().render(context)
        parts = address_parts(self.view_name.resolve(context), len(args), _current_app(context))
        if parts is None:
            return super().render(context)
        address = parts[0] + "".join(f"{arg}{part}" for arg, part in zip(args, parts[1:], strict=True))
        return conditional_escape(address) if context.autoescape else address


@register.tag("url")
def row_url(parser, token):
    node = url(parser, token)
    return RowURLNode(node.view_name, node.args, node.kwargs, node.asvar)


def row_address(view_name: str) -> Callable[[int], str]:
    """For Python that writes a page's rows: the address of `view_name` for one whole-number id, as `{% url %}`
    gives it, worked out once (`row_address("homes:patient_chart")(7)` is "/patients/7/")."""
    parts = address_parts(view_name, 1, None)
    if parts is None:
        return lambda pk: reverse(view_name, args=[pk])
    before, after = parts
    return lambda pk: f"{before}{pk}{after}"
