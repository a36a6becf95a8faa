"""The driver's cursor: which phases of the walk are finished, and what each produced.

Kept in the database metadata (`phases`: phase key -> record), written after each phase, after its
rows. A phase is recorded only when it finished whole: one cut by the budget or the clock is walked
again on resume, reading its stored calls back. A resumed run restores the finished phases in walk
order from their records and the rows they name, and runs the first phase that is not finished and
everything after it.
"""

from __future__ import annotations


class Cursor:
    def __init__(self, store):
        self.store = store
        self.phases: dict[str, dict] = dict(store.metadata.get("phases") or {})
        self.restoring = True

    def restore(self, key: str) -> dict | None:
        """The record of phase `key` while every phase before it was restored; else None, and from then
        on every phase runs."""
        if self.restoring and key in self.phases:
            return self.phases[key]
        self.restoring = False
        return None

    def finished(self, key: str, record: dict) -> None:
        self.phases = {**self.phases, key: record}
        self.store.update_metadata(phases=self.phases)


__all__ = ["Cursor"]
