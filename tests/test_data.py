"""Tests for minigrad.data: DataLoader, digits, splitting, standardising and toy datasets."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minigrad.data import (
    SCALED_FEATURES_BIAS,
    SCALED_FEATURES_WEIGHTS,
    CovariateShiftData,
    DataLoader,
    covariate_shift_label,
    load_digits,
    make_covariate_shift,
    make_moons,
    make_scaled_features,
    standardize,
    train_test_split,
)

# ----------------------------------------------------------------------------- DataLoader


def test_loader_batches_without_drop_last():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    loader = DataLoader(X, y, batch_size=3)
    batches = list(loader)
    assert len(loader) == 4 == len(batches)
    assert [xb.shape for xb, _ in batches] == [(3, 2), (3, 2), (3, 2), (1, 2)]
    assert [yb.shape for _, yb in batches] == [(3,), (3,), (3,), (1,)]
    np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), y)


def test_loader_drop_last_drops_short_batch():
    X = np.arange(10)
    loader = DataLoader(X, batch_size=3, drop_last=True)
    batches = list(loader)
    assert len(loader) == 3 == len(batches)
    assert all(b.shape == (3,) for b in batches)
    np.testing.assert_array_equal(np.concatenate(batches), np.arange(9))


def test_loader_drop_last_no_effect_when_divisible():
    X = np.arange(12)
    assert len(DataLoader(X, batch_size=4, drop_last=True)) == 3
    assert len(DataLoader(X, batch_size=4)) == 3


def test_loader_batch_larger_than_data():
    X = np.arange(5)
    assert [b.tolist() for b in DataLoader(X, batch_size=8)] == [[0, 1, 2, 3, 4]]
    loader = DataLoader(X, batch_size=8, drop_last=True)
    assert len(loader) == 0 and list(loader) == []


def test_single_array_yields_arrays_not_tuples():
    batches = list(DataLoader(np.zeros((4, 3)), batch_size=2))
    assert all(isinstance(b, np.ndarray) and b.shape == (2, 3) for b in batches)


def test_loader_three_arrays():
    a, b, c = np.arange(6), np.arange(6) * 2, np.ones((6, 2, 2))
    batches = list(DataLoader(a, b, c, batch_size=4))
    assert all(isinstance(t, tuple) and len(t) == 3 for t in batches)
    assert batches[1][2].shape == (2, 2, 2)


def _epoch_indices(loader: DataLoader) -> np.ndarray:
    return np.concatenate([xb for xb, _ in loader])


def test_shuffle_covers_every_index_once_and_keeps_pairs():
    n = 23
    X = np.arange(n)
    y = np.arange(n) * 10
    loader = DataLoader(X, y, batch_size=5, shuffle=True, seed=0)
    epochs = []
    for _ in range(3):
        xs, ys = [], []
        for xb, yb in loader:
            np.testing.assert_array_equal(yb, xb * 10)  # rows stay paired
            xs.append(xb)
            ys.append(yb)
        order = np.concatenate(xs)
        assert sorted(order.tolist()) == list(range(n))
        epochs.append(order)
    assert not np.array_equal(epochs[0], np.arange(n))
    assert not np.array_equal(epochs[0], epochs[1])  # a new permutation each epoch


def test_shuffle_is_reproducible_given_seed():
    X, y = np.arange(50), np.arange(50)
    a = DataLoader(X, y, batch_size=7, shuffle=True, seed=123)
    b = DataLoader(X, y, batch_size=7, shuffle=True, seed=123)
    c = DataLoader(X, y, batch_size=7, shuffle=True, seed=124)
    seq_a = [_epoch_indices(a) for _ in range(3)]
    seq_b = [_epoch_indices(b) for _ in range(3)]
    seq_c = [_epoch_indices(c) for _ in range(3)]
    for ea, eb in zip(seq_a, seq_b, strict=True):
        np.testing.assert_array_equal(ea, eb)
    assert not all(np.array_equal(ea, ec) for ea, ec in zip(seq_a, seq_c, strict=True))


def test_shuffle_accepts_generator_seed():
    X = np.arange(30)
    a = DataLoader(X, batch_size=30, shuffle=True, seed=np.random.default_rng(5))
    b = DataLoader(X, batch_size=30, shuffle=True, seed=5)
    np.testing.assert_array_equal(next(iter(a)), next(iter(b)))


def test_shuffle_with_drop_last_draws_distinct_indices():
    X = np.arange(10)
    loader = DataLoader(X, batch_size=4, shuffle=True, drop_last=True, seed=1)
    batches = list(loader)
    assert len(batches) == 2 == len(loader)
    flat = np.concatenate(batches)
    assert len(set(flat.tolist())) == 8


def test_no_shuffle_keeps_order():
    X = np.arange(9)
    np.testing.assert_array_equal(np.concatenate(list(DataLoader(X, batch_size=2))), X)


def test_mismatched_first_dims_error_names_shapes():
    with pytest.raises(ValueError, match=r"\(10, 2\).*\(9,\)"):
        DataLoader(np.zeros((10, 2)), np.zeros(9))


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "4", None])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        DataLoader(np.zeros(4), batch_size=bad)


def test_loader_needs_arrays():
    with pytest.raises(ValueError):
        DataLoader()
    with pytest.raises(ValueError):
        DataLoader(np.float64(3.0))


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 40),
    batch_size=st.integers(1, 12),
    drop_last=st.booleans(),
    shuffle=st.booleans(),
)
def test_loader_len_matches_iteration(n, batch_size, drop_last, shuffle):
    loader = DataLoader(
        np.arange(n), batch_size=batch_size, drop_last=drop_last, shuffle=shuffle, seed=0
    )
    sizes = [len(b) for b in loader]
    assert len(sizes) == len(loader)
    expected_total = (n // batch_size) * batch_size if drop_last else n
    assert sum(sizes) == expected_total
    assert all(s == batch_size for s in sizes[:-1])
    if sizes:
        assert 1 <= sizes[-1] <= batch_size


# ----------------------------------------------------------------------------- digits


def test_digits_default_shapes_and_ranges():
    pytest.importorskip("sklearn")
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y).tolist()) == set(range(10))


def test_digits_unscaled_and_integer():
    pytest.importorskip("sklearn")
    X, _ = load_digits(scaled=False)
    assert X.dtype == np.float64 and X.max() == 16.0
    Xi, _ = load_digits(as_float=False, scaled=False)
    assert Xi.dtype == np.int64 and Xi.max() == 16
    np.testing.assert_array_equal(Xi, X)
    with pytest.raises(ValueError, match="as_float"):
        load_digits(as_float=False, scaled=True)


def test_digits_without_sklearn_says_how_to_install(monkeypatch):
    # A None entry in sys.modules makes the import fail, as if scikit-learn were missing.
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r'pip install "minigrad\[demos\]"') as info:
        load_digits()
    assert "scikit-learn" in str(info.value)


# ----------------------------------------------------------------------------- split


def test_train_test_split_partitions_and_pairs():
    X = np.arange(40).reshape(20, 2)
    y = np.arange(20)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_fraction=0.25, seed=3)
    assert Xtr.shape == (15, 2) and Xte.shape == (5, 2)
    assert ytr.shape == (15,) and yte.shape == (5,)
    np.testing.assert_array_equal(Xtr[:, 0] // 2, ytr)
    np.testing.assert_array_equal(Xte[:, 0] // 2, yte)
    assert sorted(np.concatenate([ytr, yte]).tolist()) == list(range(20))
    assert not np.array_equal(ytr, np.arange(15))  # actually permuted


def test_train_test_split_seeded():
    X, y = np.arange(100), np.arange(100)
    a = train_test_split(X, y, seed=7)
    b = train_test_split(X, y, seed=7)
    c = train_test_split(X, y, seed=8)
    for u, v in zip(a, b, strict=True):
        np.testing.assert_array_equal(u, v)
    assert not np.array_equal(a[1], c[1])


def test_train_test_split_errors():
    with pytest.raises(ValueError, match="first dimension"):
        train_test_split(np.zeros(5), np.zeros(4))
    for frac in (0.0, 1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="test_fraction"):
            train_test_split(np.zeros(5), np.zeros(5), test_fraction=frac)


def test_train_test_split_keeps_both_sides_nonempty():
    Xtr, Xte, _, _ = train_test_split(np.arange(3), np.arange(3), test_fraction=0.01)
    assert len(Xte) == 1 and len(Xtr) == 2


# ----------------------------------------------------------------------------- standardize


def test_standardize_uses_train_statistics():
    rng = np.random.default_rng(0)
    Xtr = rng.normal([5.0, -3.0], [2.0, 0.5], size=(200, 2))
    Xte = rng.normal(0.0, 1.0, size=(30, 2))
    Xtr_copy = Xtr.copy()
    Ztr, Zte, mean, std = standardize(Xtr, Xte)
    np.testing.assert_allclose(Ztr.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Ztr.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose(mean, Xtr.mean(axis=0))
    np.testing.assert_allclose(std, Xtr.std(axis=0))
    np.testing.assert_allclose(Zte, (Xte - Xtr.mean(axis=0)) / Xtr.std(axis=0))
    np.testing.assert_array_equal(Xtr, Xtr_copy)  # inputs untouched
    assert Ztr is not Xtr


def test_standardize_constant_column():
    Xtr = np.array([[0.1, 1.0], [0.1, 2.0], [0.1, 3.0]])
    Ztr, Zother, mean, std = standardize(Xtr, np.array([[0.6, 2.0]]))
    assert std[0] == 1.0
    np.testing.assert_array_equal(Ztr[:, 0], 0.0)
    assert np.all(np.isfinite(Ztr))
    np.testing.assert_allclose(Zother[0, 0], 0.5)


def test_standardize_only_train_and_shape_check():
    out = standardize(np.arange(6.0).reshape(3, 2))
    assert len(out) == 3
    with pytest.raises(ValueError, match="shape"):
        standardize(np.zeros((3, 2)), np.zeros((3, 3)))


# ----------------------------------------------------------------------------- toys


def test_make_moons_shapes_and_classes():
    X, y = make_moons(101, noise=0.1, seed=0)
    assert X.shape == (101, 2) and X.dtype == np.float64
    assert y.shape == (101,) and y.dtype == np.int64
    assert np.sum(y == 0) == 50 and np.sum(y == 1) == 51
    assert not np.all(y[:50] == 0)  # rows are shuffled


def test_make_moons_noise_free_geometry():
    X, y = make_moons(200, noise=0.0, seed=1)
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(upper[:, 0], upper[:, 1]), 1.0)
    assert np.all(upper[:, 1] >= 0)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0)
    assert np.all(lower[:, 1] <= 0.5)


def test_make_moons_seeded():
    a, b = make_moons(50, seed=4), make_moons(50, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], make_moons(50, seed=5)[0])


def test_covariate_shift_shapes_labels_and_regions():
    data = make_covariate_shift(300, 250, seed=0)
    assert isinstance(data, CovariateShiftData)
    assert data.X_train.shape == (300, 2) and data.X_test.shape == (250, 2)
    assert data.y_train.shape == (300,) and data.y_test.shape == (250,)
    assert data.y_train.dtype == np.int64
    np.testing.assert_array_equal(data.true_label(data.X_train), data.y_train)
    np.testing.assert_array_equal(data.true_label(data.X_test), data.y_test)
    for y in (data.y_train, data.y_test):
        assert 0.25 < y.mean() < 0.75  # both classes in both regions
    gap = np.linalg.norm(data.X_train.mean(axis=0) - data.X_test.mean(axis=0))
    assert gap > 2.5  # the input distributions really differ
    assert data["X_test"] is data.X_test


def test_covariate_shift_rule_is_the_documented_circle():
    pts = np.array([[0.0, 0.0], [1.9, 0.0], [2.1, 0.0], [3.0, 3.0], [-1.0, -1.0]])
    np.testing.assert_array_equal(covariate_shift_label(pts), [1, 1, 0, 0, 1])


def test_covariate_shift_shared_rule_is_not_linear_across_regions():
    # A linear boundary fitted on train only (least squares on +/-1 targets) should do well on
    # train and clearly worse on test: that is the point of the toy.
    data = make_covariate_shift(2000, 2000, seed=1)

    def design(X):
        return np.column_stack([X, np.ones(len(X))])

    w, *_ = np.linalg.lstsq(design(data.X_train), 2.0 * data.y_train - 1.0, rcond=None)
    acc_train = np.mean((design(data.X_train) @ w > 0) == data.y_train)
    acc_test = np.mean((design(data.X_test) @ w > 0) == data.y_test)
    assert acc_train > 0.85
    assert acc_test < acc_train - 0.2


def test_covariate_shift_seeded():
    a, b = make_covariate_shift(seed=9), make_covariate_shift(seed=9)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.X_test, b.X_test)


def test_make_scaled_features():
    X, y = make_scaled_features(2000, seed=0)
    assert X.shape == (2000, 2) and y.shape == (2000,)
    assert X.dtype == np.float64 and y.dtype == np.float64
    assert 0.0 <= X[:, 0].min() and X[:, 0].max() <= 1.0
    assert 1.0 <= X[:, 1].min() and X[:, 1].max() <= 1000.0
    assert X[:, 1].max() > 900 and X[:, 0].max() > 0.9
    assert X[:, 1].std() / X[:, 0].std() > 500
    A = np.column_stack([X, np.ones(len(X))])
    coef, *_ = np.linalg.lstsq(A, y, rcond=None)
    np.testing.assert_allclose(coef[:2], SCALED_FEATURES_WEIGHTS, rtol=0.05)
    np.testing.assert_allclose(coef[2], SCALED_FEATURES_BIAS, atol=0.05)
    resid = y - A @ coef
    assert 0.03 < resid.std() < 0.07  # small noise, as documented
    X2, y2 = make_scaled_features(2000, seed=0)
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
