"""A sweep's runs as a table: error per normalization and batch size over seeds, CSV, one sentence.

Rows cover every (normalization, batch size, seed) of the sweep; a normalization that does not
reduce N repeats its one run at every batch size (the runs are the same computation).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np

from .loop import PlannedRun, RunResult
from .model import NormChoice


@dataclass(frozen=True)
class Row:
    """One (normalization, batch size, seed). Errors are fractions of the test set."""

    norm: NormChoice
    batch: int
    seed: int
    run: RunResult

    @property
    def test_error(self) -> float:
        return self.run.test_error

    @property
    def test_error_batch(self) -> float:
        return self.run.test_error_batch


def rows(norms, batches, seeds, results: dict[PlannedRun, RunResult]) -> list[Row]:
    """The table of a sweep from its finished runs (missing runs are left out)."""
    out = []
    for norm in norms:
        for batch in sorted(batches):
            for seed in seeds:
                run = results.get(PlannedRun(norm, int(batch) if norm.pools_batch else None, int(seed)))
                if run is not None:
                    out.append(Row(norm, int(batch), int(seed), run))
    return out


@dataclass(frozen=True)
class Summary:
    """Mean, lowest and highest test error over seeds, per (normalization label, batch size)."""

    label: str
    batch: int
    mean: float
    low: float
    high: float
    mean_batch_stats: float
    seeds: int


def summarize(table: list[Row]) -> list[Summary]:
    groups: dict[tuple[str, int], list[Row]] = {}
    for row in table:
        groups.setdefault((row.norm.label, row.batch), []).append(row)
    out = []
    for (label, batch), members in groups.items():
        errors = np.array([r.test_error for r in members])
        out.append(
            Summary(
                label,
                batch,
                float(errors.mean()),
                float(errors.min()),
                float(errors.max()),
                float(np.mean([r.test_error_batch for r in members])),
                len(members),
            )
        )
    return out


def to_csv(table: list[Row]) -> str:
    """One line per (normalization, batch size, seed), errors in %."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(
        [
            "normalization",
            "axes",
            "groups",
            "centered",
            "affine",
            "batch_size",
            "seed",
            "test_error_pct_eval_mode",
            "test_error_pct_batch_statistics",
            "final_train_loss",
            "final_train_error_pct",
            "seconds",
        ]
    )
    for r in table:
        writer.writerow(
            [
                r.norm.label,
                r.norm.axes if r.norm.axes is not None else "none",
                r.norm.groups,
                int(r.norm.center),
                int(r.norm.affine),
                r.batch,
                r.seed,
                f"{100 * r.test_error:.2f}",
                f"{100 * r.test_error_batch:.2f}",
                f"{r.run.epoch_loss[-1]:.4f}",
                f"{100 * r.run.epoch_train_error[-1]:.2f}",
                f"{r.run.seconds:.2f}",
            ]
        )
    return buf.getvalue()


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


def reading(summaries: list[Summary], pooling_labels: set[str]) -> str:
    """One sentence (Markdown) that reads the measured errors: how the error of each normalization
    that pools over images moves from the largest to the smallest batch (against the spread over
    seeds), and where the best and worst of the others stand against the first of them."""
    if not summaries:
        return ""
    batches = sorted({s.batch for s in summaries})
    small, large = batches[0], batches[-1]
    by = {(s.label, s.batch): s for s in summaries}
    labels = list(dict.fromkeys(s.label for s in summaries))
    parts = []
    pooled = [label for label in labels if label in pooling_labels]
    for label in pooled:
        a, b = by[(label, large)], by[(label, small)]
        if small == large:
            parts.append(f"{label} reaches {_pct(a.mean)} at batch {large}")
            continue
        if b.mean > a.high and b.low > a.mean:
            trend = "rises"
        elif b.mean < a.low and b.high < a.mean:
            trend = "falls"
        else:
            trend = "moves within the spread over seeds"
        parts.append(
            f"{label}'s test error {trend} from {_pct(a.mean)} at batch {large} to {_pct(b.mean)} at batch {small}"
        )
    others = sorted((by[(label, small)] for label in labels if label not in pooling_labels), key=lambda s: s.mean)
    for k, other in enumerate(others[:1] + others[1:][-1:]):
        word = "best" if k == 0 else "worst"
        text = f"{other.label} ({_pct(other.mean)} at every batch size)"
        if len(others) > 1:
            text += f" is the {word} of those that do not pool over the batch"
        if pooled:
            ref = pooled[0]
            at_large = "below" if other.mean < by[(ref, large)].mean else "above"
            at_small = "below" if other.mean < by[(ref, small)].mean else "above"
            if small == large:
                text += f", {at_large} {ref}"
            elif at_large == at_small:
                text += f", {at_large} {ref} at batch {large} and at batch {small}"
            else:
                text += f", {at_large} {ref} at batch {large} but {at_small} it at batch {small}"
        parts.append(text)
    sentence = "; ".join(parts) + "."
    return sentence[0].upper() + sentence[1:]


def pivot(summaries: list[Summary], pooling_labels: set[str]) -> tuple[list[str], list[list[str]]]:
    """The errors as a table: a header, then one row per normalization with "mean (lowest–highest)" in %
    per batch size (largest first), and for each normalization that pools over the batch a row with
    the test set normalized in batches of B with their own statistics."""
    by = {(s.label, s.batch): s for s in summaries}
    labels = list(dict.fromkeys(s.label for s in summaries))
    batches = sorted({s.batch for s in summaries}, reverse=True)
    header = ["normalization", *(f"B = {b}" for b in batches)]
    body = []
    for label in labels:
        cells = [by.get((label, b)) for b in batches]
        body.append(
            [label, *(f"{100 * c.mean:.1f} ({100 * c.low:.1f}–{100 * c.high:.1f})" if c else "" for c in cells)]
        )
    for label in labels:
        if label in pooling_labels:
            cells = [by.get((label, b)) for b in batches]
            body.append([f"{label}, test batches of B with their own statistics",
                         *(f"{100 * c.mean_batch_stats:.1f}" if c else "" for c in cells)])  # fmt: skip
    return header, body
