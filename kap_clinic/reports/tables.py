"""The shape every tabular report hands to the print template (`reports/pdf/tables.html`) and to the CSV writer."""

from dataclasses import dataclass


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: list[list]
    note: str = ""
