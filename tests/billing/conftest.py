import pytest
from django.db import connection

from tests.conftest import skip_or_fail


@pytest.fixture
def on_postgresql():
    """The billing race tests: two connections writing at once need PostgreSQL."""
    if connection.vendor != "postgresql":
        skip_or_fail(f"Two connections writing at once need PostgreSQL, not {connection.vendor}")
