"""The package's one ROC-AUC, against scikit-learn's roc_auc_score."""

from __future__ import annotations

import pytest
import torch
from sklearn.metrics import roc_auc_score

from geoconv.metrics import mean_roc_auc, roc_auc


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_equals_sklearn_with_and_without_ties(seed):
    generator = torch.Generator().manual_seed(seed)
    label = torch.randint(0, 2, (200,), generator=generator)
    label[:2] = torch.tensor([0, 1])
    for score in (torch.rand(200, generator=generator),  # no ties
                  torch.randint(0, 5, (200,), generator=generator).float()):  # many ties
        assert roc_auc(score, label) == pytest.approx(roc_auc_score(label.cpu().numpy(), score.cpu().numpy()), abs=1e-12)


def test_roc_auc_table():
    # One positive above both negatives, one tied with a negative: (1 + 1 + 1 + 0.5) / 4.
    assert roc_auc(torch.tensor([0.9, 0.5, 0.5, 0.1]), torch.tensor([1, 1, 0, 0])) == 0.875
    assert roc_auc(torch.tensor([0.1, 0.9]), torch.tensor([1, 0])) == 0.0
    assert roc_auc(torch.tensor([0.1, 0.9]), torch.tensor([False, True])) == 1.0


def test_roc_auc_needs_both_classes_and_matching_shapes():
    with pytest.raises(ValueError, match="2 positives and 0 negatives"):
        roc_auc(torch.tensor([0.1, 0.9]), torch.tensor([1, 1]))
    with pytest.raises(ValueError, match="score has 3 entries but label has 2"):
        roc_auc(torch.tensor([0.1, 0.9, 0.3]), torch.tensor([1, 0]))


def test_mean_roc_auc_skips_unlabelled_rows_and_one_class_tasks():
    y_true = torch.tensor([[1.0, 1.0, 0.0], [0.0, float("nan"), 0.0], [1.0, 0.0, float("nan")], [0.0, 1.0, 0.0]])
    y_pred = torch.tensor([[0.8, 0.3, 0.2], [0.1, 0.9, 0.4], [0.4, 0.6, 0.7], [0.5, 0.2, 0.1]])
    first = roc_auc_score([1, 0, 1, 0], [0.8, 0.1, 0.4, 0.5])
    second = roc_auc_score([1, 0, 1], [0.3, 0.6, 0.2])  # row 1 unlabelled; task 3 has negatives only: left out
    assert mean_roc_auc(y_true, y_pred) == pytest.approx((first + second) / 2)
    with pytest.raises(ValueError, match="no task has both"):
        mean_roc_auc(torch.zeros(3, 1), torch.rand(3, 1))
    with pytest.raises(ValueError, match="differ"):
        mean_roc_auc(torch.zeros(3, 1), torch.rand(3, 2))
