"""Connections with no contact since connecting: what ``invitecls prune`` lists, oldest first."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from invitecls._export import Connection, Export, normalize_name, normalize_url

__all__ = ["PRUNE_COLUMNS", "PruneReport", "PruneRow", "prune"]


@dataclass(frozen=True)
class PruneRow:
    """A connection with no contact since connecting."""

    name: str
    profile_url: str
    company: str
    position: str
    connected_on: str
    months: int
    matched_by: str

    def as_record(self) -> dict[str, Any]:
        """Plain data for CSV or JSON output."""
        return {
            "name": self.name,
            "profile_url": self.profile_url,
            "company": self.company,
            "position": self.position,
            "connected_on": self.connected_on,
            "months": self.months,
            "matched_by": self.matched_by,
        }


PRUNE_COLUMNS = ("name", "profile_url", "company", "position", "connected_on", "months", "matched_by")


def _months_between(start: dt.date, end: dt.date) -> int:
    months = (end.year - start.year) * 12 + end.month - start.month
    return months - 1 if end.day < start.day else months


@dataclass
class PruneReport:
    """Candidates, oldest first, and what could not be checked."""

    rows: list[PruneRow]
    skipped_unnamed: int
    skipped_undated: int


def prune(export: Export, *, months: int = 12, today: dt.date | None = None) -> PruneReport:
    """Connections made at least ``months`` ago with no message since, oldest first.

    A connection is matched to messages by profile URL when it has one, else by
    name. It only reports; nothing is changed.
    """
    if months < 0:
        raise ValueError("--months must be >= 0")
    today = today or dt.date.today()
    last_url: dict[str, dt.datetime] = {}
    last_name: dict[str, dt.datetime] = {}
    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    if export.has("messages.csv"):
        for message in export.messages():
            when = message.date or epoch
            for url in (message.sender_url, *message.recipient_urls):
                if url:
                    key = normalize_url(url)
                    last_url[key] = max(last_url.get(key, epoch), when)
            for name in (message.sender, *message.recipients):
                if name:
                    key = normalize_name(name)
                    last_name[key] = max(last_name.get(key, epoch), when)
    rows: list[tuple[dt.date, PruneRow]] = []
    unnamed = undated = 0
    for connection in export.connections():
        if not connection.url and not connection.name:
            unnamed += 1
            continue
        if connection.connected_on is None:
            undated += 1
            continue
        age = _months_between(connection.connected_on, today)
        if age < months:
            continue
        since = dt.datetime.combine(connection.connected_on, dt.time(), tzinfo=dt.timezone.utc)
        matched_by, last = _last_contact(connection, last_url, last_name)
        if last is not None and last >= since:
            continue
        rows.append(
            (
                connection.connected_on,
                PruneRow(
                    name=connection.name,
                    profile_url=connection.url,
                    company=connection.company,
                    position=connection.position,
                    connected_on=connection.connected_on.isoformat(),
                    months=age,
                    matched_by=matched_by,
                ),
            )
        )
    rows.sort(key=lambda pair: (pair[0], pair[1].name))
    return PruneReport(rows=[r for _, r in rows], skipped_unnamed=unnamed, skipped_undated=undated)


def _last_contact(
    connection: Connection, by_url: dict[str, dt.datetime], by_name: dict[str, dt.datetime]
) -> tuple[str, dt.datetime | None]:
    if connection.url:
        return "profile URL", by_url.get(normalize_url(connection.url))
    return "name", by_name.get(normalize_name(connection.name))
