"""Running a system over gold articles: what it may see per setting, in batches."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mapapp.evaluation.corpus import GoldArticle, Span
from mapapp.records import CONSIDERED

Prediction = Mapping[str, Any]
SystemInput = tuple[str, tuple[Span, ...] | None]
ParseFn = Callable[[str, Sequence[Span] | None], list[dict]]
ParseManyFn = Callable[[list[SystemInput]], list[list[dict]]]

END_TO_END = "end_to_end"
GOLD_SPANS = "gold_spans"
SETTINGS = (END_TO_END, GOLD_SPANS)


def system_inputs(articles: Sequence[GoldArticle], setting: str) -> list[SystemInput]:
    """What the system may see per article: text, plus gold spans if that setting."""
    if setting not in SETTINGS:
        raise ValueError(f"unknown setting {setting!r}; use one of {', '.join(SETTINGS)}")
    return [(a.text, a.spans if setting == GOLD_SPANS else None) for a in articles]


def batched(parse: ParseFn) -> ParseManyFn:
    """Turn a one-article parse function into the batched form."""

    def parse_many(inputs: list[SystemInput]) -> list[list[dict]]:
        """Parse each article on its own."""
        return [parse(text, spans) for text, spans in inputs]

    return parse_many


def run_system(
    parse_many: ParseManyFn,
    articles: Sequence[GoldArticle],
    setting: str,
    *,
    batch_size: int = 64,
    progress: Callable[[int, int], None] | None = None,
) -> list[list[dict]]:
    """Run the system over all articles in batches; one prediction list per article."""
    inputs = system_inputs(articles, setting)
    predictions: list[list[dict]] = []
    for first in range(0, len(inputs), batch_size):
        batch = inputs[first : first + batch_size]
        results = parse_many(batch)
        if len(results) != len(batch):
            raise ValueError(f"system returned {len(results)} results for {len(batch)} articles")
        # names recognition considered and set aside are reported, but are no toponyms
        predictions.extend([[p for p in r if p.get("role") != CONSIDERED] for r in results])
        if progress is not None:
            progress(len(predictions), len(inputs))
    return predictions
