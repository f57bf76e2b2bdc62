"""Evaluation metrics the tasks share (the one ROC-AUC of the package)."""

from __future__ import annotations

import torch
from torch import Tensor


def roc_auc(score: Tensor, label: Tensor) -> float:
    r"""Area under the ROC curve of a binary problem.

    .. math::
        \mathrm{AUC} = P(s_+ > s_-) + \tfrac{1}{2} P(s_+ = s_-)

    for the score :math:`s_+` of a random positive and :math:`s_-` of a random
    negative, computed from ranks (Mann-Whitney U): ties get their average rank.
    Equal to ``sklearn.metrics.roc_auc_score(label, score)``.

    Args:
        score: higher means more likely positive.
        label: 1 (or True) for positives, 0 for negatives.

    Shapes:
        score, label: ``[N]``.

    Raises:
        ValueError: shapes differ, or ``label`` holds one class only (AUC undefined).
    """
    score, label = score.detach().reshape(-1), label.detach().reshape(-1)
    if score.shape != label.shape:
        raise ValueError(f"roc_auc: score has {score.numel()} entries but label has {label.numel()}")
    positive = label.bool()
    num_pos = int(positive.sum())
    num_neg = positive.numel() - num_pos
    if num_pos == 0 or num_neg == 0:
        raise ValueError(f"roc_auc is undefined with {num_pos} positives and {num_neg} negatives (needs both classes)")
    score = score.double()
    _, inverse, counts = torch.unique(score, sorted=True, return_inverse=True, return_counts=True)
    # Average 1-based rank of each distinct score: first rank of its block + (block size - 1) / 2.
    first = torch.cumsum(counts, 0) - counts + 1
    average = first.double() + (counts.double() - 1.0) / 2.0
    ranks = average[inverse]
    return float((ranks[positive].sum() - num_pos * (num_pos + 1) / 2.0) / (num_pos * num_neg))


def mean_roc_auc(y_true: Tensor, y_pred: Tensor) -> float:
    """ROC-AUC averaged over tasks (columns), each over its labelled rows (NaN = unlabelled).

    A task whose labelled rows hold one class only is left out of the mean, as
    OGB's ``Evaluator`` does.

    Shapes:
        y_true, y_pred: ``[G, T]`` (or ``[G]`` for one task).

    Raises:
        ValueError: shapes differ, or no task has both classes.
    """
    if y_true.shape != y_pred.shape:
        raise ValueError(f"mean_roc_auc: y_true {tuple(y_true.shape)} and y_pred {tuple(y_pred.shape)} differ")
    y_true, y_pred = y_true.reshape(y_true.shape[0], -1), y_pred.reshape(y_pred.shape[0], -1)
    scores = []
    for task in range(y_true.shape[1]):
        labelled = ~torch.isnan(y_true[:, task])
        labels = y_true[labelled, task]
        if 0 < int(labels.sum()) < labels.numel():
            scores.append(roc_auc(y_pred[labelled, task], labels))
    if not scores:
        raise ValueError("mean_roc_auc: no task has both positive and negative labelled examples")
    return sum(scores) / len(scores)
