"""What a kind of import (members, workplace contacts ...) tells the engine.

A kind is an object registered once at start-up (`register_kind`, from its app's ready()):

    class MemberRows(Kind):
        name = "members"
        columns = (Column("name", _("Name"), aliases=("nombre",)), ...)

        def check_mapping(self, keys): ...          # None, or why this mapping cannot work
        def validate_row(self, job, values): ...    # {column key: text} -> cleaned dict,
                                                    # or raise RowInvalid(reason)
        def identities(self, cleaned): ...          # what makes two rows the same person,
                                                    # e.g. ["phone:+12135550100"]
        def match_existing(self, job, rows): ...    # [True if already there] for a batch
        def apply_row(self, job, cleaned): ...      # write one new row (in the engine's
                                                    # transaction; no audit entry: the
                                                    # import records one for the whole file)
        def apply_rows(self, job, rows): ...        # optional: a batch at once (faster);
                                                    # by default apply_row for each

The engine (`defensa.imports.engine`) reads the file, maps its columns, calls these per row,
refuses a row whose identity an earlier row of the same file already has, and counts new,
existing and invalid rows. Importing the same file again finds every row existing and
changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from defensa.imports.models import ImportJob


@dataclass(frozen=True)
class Column:
    key: str
    label: Any  # a lazy translation
    # Column titles (lower case) a spreadsheet may use for it; they are mapped automatically.
    aliases: tuple[str, ...] = ()


class RowInvalid(Exception):
    """The row cannot be imported; the argument says why, for people (a translated string)."""

    @property
    def reason(self) -> str:
        return str(self.args[0]) if self.args else ""


class Kind:
    name: str = ""
    columns: Sequence[Column] = ()

    def check_mapping(self, keys: set[str]) -> str | None:
        return None

    def validate_row(self, job: ImportJob, values: dict[str, str]) -> dict[str, Any]:
        raise NotImplementedError

    def identities(self, cleaned: dict[str, Any]) -> list[str]:
        return []

    def match_existing(self, job: ImportJob, rows: Sequence[dict[str, Any]]) -> list[bool]:
        return [False] * len(rows)

    def apply_row(self, job: ImportJob, cleaned: dict[str, Any]) -> None:
        raise NotImplementedError

    def apply_rows(self, job: ImportJob, rows: Sequence[dict[str, Any]]) -> None:
        for cleaned in rows:
            self.apply_row(job, cleaned)


_KINDS: dict[str, Kind] = {}


def register_kind(kind: Kind) -> None:
    _KINDS[kind.name] = kind


def kind_named(name: str) -> Kind:
    return _KINDS[name]
