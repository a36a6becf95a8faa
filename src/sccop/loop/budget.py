"""The search's budget: how many more backend calls a stage may make, and whether time is up. It
answers; it never stops the run itself (the driver decides).

`calls` are every counted backend call of the store (a resumed run's included), so a budget means the
same total however often the run was resumed. Of a call budget, `relax_top` calls (with `screen`, the
screens before them too; at most half) are kept for relaxing the best labels once the single points
stop; relaxations already made by an earlier, smaller budget that this walk has not reached
(`unreached`) count against that reserve.
"""

from __future__ import annotations

from sccop.config import SearchConfig


class Budget:
    def __init__(self, config: SearchConfig, ledger, clock, unreached: set[str] | None = None):
        self.config = config
        self.ledger = ledger
        self.clock = clock
        self.unreached = set(unreached or ())

    @property
    def calls(self) -> int:
        return self.ledger.calls

    @property
    def relaxation_labels(self) -> bool:
        return self.config.label_with == "relaxation"

    def label_limit(self) -> int | None:
        """The calls single points (and relaxations during a round) may use up to: the budget less the
        calls kept for relaxing the best labels at the end. With relaxation labels, the whole budget."""
        budget = self.config.budget_calls
        if budget is None or self.relaxation_labels:
            return budget
        return budget - max(0, min(self.reserve, budget // 2) - len(self.unreached))

    @property
    def reserve(self) -> int:
        """Calls kept for the last relaxations: `relax_top`, and with screening the screens before them."""
        top = self.config.relax_top
        return top * (self.config.screen + 1) if self.config.screen > 1 else top

    def room(self, single_points: bool) -> int | None:
        """New calls a stage may make now (None: no limit): single points up to the label limit,
        relaxations up to the whole budget."""
        limit = self.label_limit() if single_points else self.config.budget_calls
        return None if limit is None else max(0, limit - self.calls)

    def labels_spent(self, trained: bool) -> bool:
        """The label limit is reached and the learning iteration was not trained before (a resumed walk
        goes through the iterations its run trained): its training, annealing and selection could label
        nothing."""
        limit = self.label_limit()
        return limit is not None and self.calls >= limit and not trained

    def time_up(self) -> bool:
        limit = self.config.budget_minutes
        return limit is not None and self.clock.minutes() >= limit

    def reached(self, uids) -> None:
        """These stored calls are part of this walk."""
        self.unreached.difference_update(uids)


__all__ = ["Budget"]
