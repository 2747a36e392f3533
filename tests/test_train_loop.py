"""The training data, the loop, the shared trainer, the results table and the training figures."""

import threading
import time

import numpy as np
import pytest

from normviz.figures.training import error_vs_batch_figure, learning_curves_figure, train_eval_figure
from normviz.train import Cancelled, Model, NormChoice, TrainingService, TrainSettings, init_weights, plan, train_run
from normviz.train import data as train_data
from normviz.train.results import reading, rows, summarize, to_csv

BN = NormChoice("BatchNorm", "NHW")
IN = NormChoice("InstanceNorm", "HW")
TINY = TrainSettings(epochs=2)


@pytest.fixture(scope="module")
def small():
    return train_data.make_dataset("photo", 0, train_per_class=64, test_per_class=32)


def test_crops_come_from_disjoint_blocks():
    """Paint every pixel with its block's number: each crop holds one number, train's and test's differ."""
    rng = np.random.default_rng(0)
    h, w = 171, 256
    rows_, cols_ = np.meshgrid(np.arange(h) // 32, np.arange(w) // 32, indexing="ij")
    block_id = (rows_ * 100 + cols_).astype(np.float32)
    photo = np.broadcast_to(block_id, (3, h, w))
    train_blocks, test_blocks = train_data._split_blocks(h, w, rng)
    assert not set(train_blocks) & set(test_blocks)
    assert len(test_blocks) == round(0.25 * (len(train_blocks) + len(test_blocks)))
    ids = {}
    for name, corners in (("train", train_blocks), ("test", test_blocks)):
        crops = train_data._crops(photo, corners, 300, rng)
        assert (crops == crops[:, :1, :1, :1]).all(), "a crop spans two blocks"
        ids[name] = set(crops[:, 0, 0, 0].tolist())
        assert ids[name] <= {r // 32 * 100 + c // 32 for r, c in corners}
    assert not ids["train"] & ids["test"]


def test_dataset_is_fixed_by_its_seed(small):
    again = train_data.make_dataset("photo", 0, train_per_class=64, test_per_class=32)
    other = train_data.make_dataset("photo", 1, train_per_class=64, test_per_class=32)
    np.testing.assert_array_equal(small.x_train, again.x_train)
    assert not np.array_equal(small.x_test, other.x_test)
    assert small.x_train.shape == (6 * 64, 3, 16, 16) and small.x_train.dtype == np.float32
    assert small.classes == ("astronaut", "camera", "chelsea", "coffee", "hubble deep field", "rocket")
    np.testing.assert_allclose(small.x_train.mean(axis=(0, 2, 3)), 0, atol=1e-5)


def _appearance_accuracy(data) -> float:
    """Nearest class centroid on each crop's per-channel mean and std alone (test accuracy)."""
    feats = [np.concatenate([x.mean(axis=(2, 3)), x.std(axis=(2, 3))], axis=1) for x in (data.x_train, data.x_test)]
    centroids = np.stack([feats[0][data.y_train == k].mean(axis=0) for k in range(len(data.classes))])
    guess = np.argmin(((feats[1][:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    return float((guess == data.y_test).mean())


def test_control_task_takes_the_information_out_of_appearance(small):
    control = train_data.make_dataset("control", 0, train_per_class=64, test_per_class=32)
    chance = 1 / 6
    assert _appearance_accuracy(small) > 3 * chance  # brightness and colour tell the photos apart
    assert _appearance_accuracy(control) < 2 * chance  # in the control they do not (32 per class: ±0.07)


def test_unknown_task_is_a_clear_error():
    with pytest.raises(Exception, match="unknown training task 'cifar'; choose one of photo, control"):
        train_data.make_dataset("cifar")


def test_plan_trains_batch_free_normalizations_once_per_seed():
    runs = plan([BN, IN], [2, 8, 32], [0, 1])
    assert [(r.norm.label, r.batch, r.seed) for r in runs] == [
        ("BatchNorm", 2, 0), ("BatchNorm", 8, 0), ("BatchNorm", 32, 0),
        ("BatchNorm", 2, 1), ("BatchNorm", 8, 1), ("BatchNorm", 32, 1),
        ("InstanceNorm", None, 0), ("InstanceNorm", None, 1),
    ]  # fmt: skip


def test_batchnorm_on_batches_of_one_is_instancenorm_in_training():
    rng = np.random.default_rng(0)
    weights = init_weights(rng)
    x = rng.normal(size=(4, 3, 16, 16)).astype(np.float32)
    bn1 = Model(weights, BN, norm_batch=1).forward(x, train=True)
    inst = Model(weights, IN, norm_batch=32).forward(x, train=True)
    np.testing.assert_allclose(bn1, inst, rtol=0, atol=1e-5)


def test_a_run_learns_and_is_reproducible(small):
    first = train_run(small, BN, 4, 0, TINY)
    again = train_run(small, BN, 4, 0, TINY)
    assert first.epoch_loss == again.epoch_loss and first.test_error == again.test_error
    assert len(first.epoch_loss) == 2 and first.epoch_loss[1] < first.epoch_loss[0]
    assert first.test_error < 0.75  # chance is 5/6
    assert 0 <= first.test_error_batch <= 1
    other = train_run(small, BN, 4, 1, TINY)
    assert other.epoch_loss != first.epoch_loss


def test_batch_size_changes_nothing_without_n_in_the_axes(small):
    a, b = train_run(small, IN, 2, 0, TINY), train_run(small, IN, 32, 0, TINY)
    assert a.epoch_loss == b.epoch_loss and a.test_error_batch == a.test_error


def test_service_caches_shares_and_runs_one_training_at_a_time(small):
    service = TrainingService()
    runs = plan([BN], [4, 8], [0])
    waits, progress = [], []
    first = threading.Thread(target=service.sweep, args=(small, TINY, runs, lambda f, t: time.sleep(0.01), None))
    first.start()
    while service.busy() is None and first.is_alive():
        time.sleep(0.005)
    assert service.busy() is not None and service.busy().runs_left >= 1
    other = plan([IN], [4], [0])
    done = service.sweep(small, TINY, other, lambda f, t: progress.append(f), waits.append, poll_seconds=0.01)
    first.join()
    assert waits, "the second sweep waited for the first"
    assert waits[0].seconds_left > 0
    assert set(done) == set(other) and progress[-1] == 1.0
    assert len(service.cached(small, TINY, runs)) == 2  # the first visitor's runs, kept for everyone
    calls = []
    service.sweep(small, TINY, runs, lambda f, t: calls.append(t), None)
    assert calls == ["Done"], "a cached sweep trains nothing"


def test_cancel_keeps_finished_runs_and_frees_the_trainer(small):
    service = TrainingService()
    runs = plan([BN], [4, 8, 16], [0])

    def stop_in_second(fraction, text):
        if "Training 2 of" in text:
            raise Cancelled

    with pytest.raises(Cancelled):
        service.sweep(small, TINY, runs, stop_in_second, None)
    assert list(service.cached(small, TINY, runs)) == runs[:1]
    assert service.busy() is None
    done = service.sweep(small, TINY, runs, lambda f, t: None, None)
    assert len(done) == 3


def test_results_table_csv_sentence_and_figures(small):
    service = TrainingService()
    norms, batches, seeds = [BN, IN], [4, 16], [0, 1]
    done = service.sweep(small, TINY, plan(norms, batches, seeds), lambda f, t: None, None)
    table = rows(norms, batches, seeds, done)
    assert len(table) == 2 * 2 * 2  # InstanceNorm's one run per seed stands at both batch sizes
    lines = to_csv(table).strip().splitlines()
    assert lines[0].startswith("normalization,axes,groups") and len(lines) == 9
    assert lines[1].split(",")[:7] == ["BatchNorm", "NHW", "1", "1", "1", "4", "0"]
    summaries = summarize(table)
    bn4 = next(s for s in summaries if s.label == "BatchNorm" and s.batch == 4)
    errors = [done[r].test_error for r in done if r.norm == BN and r.batch == 4]
    assert bn4.mean == pytest.approx(np.mean(errors)) and bn4.low == min(errors) and bn4.seeds == 2
    sentence = reading(summaries, {"BatchNorm"})
    assert sentence.startswith("BatchNorm's test error") and "at batch 16 to" in sentence
    assert f"InstanceNorm ({100 * np.mean([done[r].test_error for r in done if r.norm == IN]):.1f} %" in sentence
    fig = error_vs_batch_figure(summaries, {"BatchNorm"})
    lines_ = [t for t in fig.data if t.mode == "lines+markers"]
    assert [t.name for t in lines_] == ["BatchNorm", "InstanceNorm"] and fig.layout.xaxis.type == "log"
    assert list(lines_[0].x) == [4, 16] and lines_[1].line.dash == "dash"
    curves = learning_curves_figure(table, 4)
    assert len(curves.data) == 4 and list(curves.data[0].x) == [1, 2]
    modes = train_eval_figure(summaries, {"BatchNorm"})
    assert len(modes.data) == 2
    assert list(modes.data[1].y) == pytest.approx(
        [100 * s.mean_batch_stats for s in summaries if s.label == "BatchNorm"]
    )


def test_a_batch_size_that_does_not_divide_the_step_is_a_clear_error(small):
    from normviz import NormvizError

    with pytest.raises(
        NormvizError, match="batch size 3 must divide the 32 images of a training step; choose one of 1, 2, 4"
    ):
        train_run(small, BN, 3, 0, TINY)


def test_one_blas_thread_sets_and_restores_the_thread_count():
    from normviz.train import blas

    funcs = blas._openblas()
    if funcs is None:
        pytest.skip("numpy is not linked to OpenBLAS here")
    setter, getter = funcs
    before = getter()
    with blas.one_blas_thread():
        assert getter() == 1
    assert getter() == before
