"""`{% url %}` gives the same address as Django's `reverse()`, whether a row's numbers take the quick way or not."""

import pytest
from django.template import Context, Template
from django.urls import NoReverseMatch, reverse, set_script_prefix
from hypothesis import given, settings
from hypothesis import strategies as st


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@settings(deadline=None)
@given(pk=st.integers(min_value=0, max_value=10**12))
def test_a_link_with_a_whole_number_is_the_same_as_reverse(pk):
    assert render("{% url 'homes:patient_chart' pk %}", pk=pk) == reverse("homes:patient_chart", args=[pk])


def test_every_row_gets_its_own_number():
    out = render("{% for pk in pks %}{% url 'sessions:plan_detail' pk %} {% endfor %}", pks=[1, 22, 333])
    assert out.split() == [reverse("sessions:plan_detail", args=[pk]) for pk in (1, 22, 333)]


def test_keyword_arguments_text_and_as_go_through_djangos_tag():
    assert render("{% url 'homes:patient_chart' pk=5 %}") == reverse("homes:patient_chart", kwargs={"pk": 5})
    assert render("{% url 'homes:patient_chart' '7' %}") == reverse("homes:patient_chart", args=["7"])
    assert (
        render("{% url 'homes:patient_chart' 9 as link %}[{{ link }}]")
        == f"[{reverse('homes:patient_chart', args=[9])}]"
    )
    assert render("{% url 'homes:home' %}") == reverse("homes:home")


def test_an_address_that_does_not_exist_still_fails():
    with pytest.raises(NoReverseMatch):
        render("{% url 'homes:patient_chart' -1 %}")
    with pytest.raises(NoReverseMatch):
        render("{% url 'homes:nothing_here' 3 %}")


def test_a_link_without_arguments_is_kept_whole_and_a_missing_one_still_fails():
    assert render("{% url 'homes:home' %}{% url 'homes:home' %}") == reverse("homes:home") * 2
    assert render("{% url name %}", name="sessions:schedule") == reverse("sessions:schedule")
    for _ in range(2):
        with pytest.raises(NoReverseMatch):
            render("{% url 'homes:nothing_here' %}")
    try:
        set_script_prefix("/clinic/")
        assert render("{% url 'homes:home' %}") == reverse("homes:home")
        assert render("{% url 'homes:home' %}").startswith("/clinic/")
    finally:
        set_script_prefix("/")


def test_the_script_prefix_is_respected():
    plain = reverse("homes:patient_chart", args=[4])
    try:
        set_script_prefix("/clinic/")
        assert render("{% url 'homes:patient_chart' 4 %}") == "/clinic" + plain
    finally:
        set_script_prefix("/")
    assert render("{% url 'homes:patient_chart' 4 %}") == plain
