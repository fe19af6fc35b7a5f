import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import keras

from keras_lmrnn import tasks
from keras_lmrnn.tasks import TaskDataset, evaluation_set


@pytest.fixture(scope="module")
def stream():
    return TaskDataset("modcog84", batch_size=8, seq_len=120, num_batches=6, seed=5)


def test_stream_batch_shapes_and_dtypes(stream):
    x, y, w = stream[0]
    assert x.shape == (8, 120, 33 + 84) and x.dtype == np.float32
    assert y.shape == (8, 120) and y.dtype == np.int32
    assert w.shape == (8, 120) and w.dtype == np.float32
    assert isinstance(stream, keras.utils.PyDataset) and len(stream) == 6
    assert (w == 1).all()  # the stream has no padding
    rule = x[..., 33:]
    assert (rule.sum(-1) == 1).all()
    assert y.min() >= 0 and y.max() <= 16


def test_stream_rows_interleave_tasks(stream):
    x, _, _ = stream[1]
    per_row = [len(np.unique(row[:, 33:].argmax(-1))) for row in x]
    assert max(per_row) > 1


def test_batches_are_pure_functions_of_seed_and_index(stream):
    first = [stream[i] for i in range(6)]
    again = TaskDataset("modcog84", batch_size=8, seq_len=120, num_batches=6, seed=5)
    for i in reversed(range(6)):  # another order of access
        for a, b in zip(first[i], again[i]):
            np.testing.assert_array_equal(a, b)
    other = TaskDataset("modcog84", batch_size=8, seq_len=120, num_batches=6, seed=6)
    assert not np.array_equal(first[0][0], other[0][0])
    assert not np.array_equal(first[0][0], first[1][0])


def test_same_data_with_threads_and_processes(stream):
    expected = [stream[i] for i in range(6)]
    with ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(stream.__getitem__, [5, 3, 1, 0, 2, 4]))
    for got, i in zip(threaded, [5, 3, 1, 0, 2, 4]):
        for a, b in zip(got, expected[i]):
            np.testing.assert_array_equal(a, b)
    clone = pickle.loads(pickle.dumps(stream))  # what multiprocessing workers get
    for a, b in zip(clone[2], expected[2]):
        np.testing.assert_array_equal(a, b)


def test_keras_workers_see_the_same_batches():
    from keras.src.trainers.data_adapters.py_dataset_adapter import PyDatasetAdapter

    def batches(**kwargs):
        data = TaskDataset("yang20", batch_size=4, seq_len=30, num_batches=5, seed=1, **kwargs)
        return [b for b in PyDatasetAdapter(data, shuffle=False).get_numpy_iterator()]

    plain, threaded = batches(), batches(workers=3)
    assert len(plain) == len(threaded) == 5
    for a, b in zip(plain, threaded):
        for u, v in zip(a, b):
            np.testing.assert_array_equal(u, v)


def test_trials_layout_pads_with_zero_weight():
    data = TaskDataset(["go", "dms_seqr", "dlydm1_intl"], batch_size=16, seq_len=60, layout="trials", num_batches=2)
    x, y, w, rows = data.batch_with_tasks(0)
    assert x.shape == (16, 60, 36) and rows.shape == (16,)
    for r in range(16):
        assert x[r, 0, 33 + rows[r]] == 1
        length = int((x[r, :, 33:].sum(-1) > 0).sum())
        assert (w[r, :length] == 1).all() and (w[r, length:] == 0).all()
        assert (y[r, length:] == 0).all() and length < 60


def test_trials_layout_rejects_short_rows():
    data = TaskDataset(["dms_seqr"], batch_size=2, seq_len=10, layout="trials", num_batches=1)
    with pytest.raises(ValueError, match="seq_len=10"):
        data[0]


def test_yang_loss_weighting():
    data = TaskDataset(["dlygo"], batch_size=2, seq_len=40, layout="trials", num_batches=1, loss_weighting="yang")
    x, y, w = data[0]
    go = int(np.argmax(x[0, :, 0] == 0))
    end = int((x[0, :, 33] > 0).sum())
    assert (w[0, :go] == 1).all() and w[0, go] == 0
    assert (w[0, go + 1 : end] == 5).all() and (w[0, end:] == 0).all()


def test_rule_input_follows_the_dataset_task_list():
    data = TaskDataset(["dms", "go"], batch_size=32, seq_len=40, layout="trials", num_batches=1)
    x, y, w, rows = data.batch_with_tasks(0)
    for r in range(32):
        name = ["dms", "go"][rows[r]]
        assert x[r, 0, 33 + rows[r]] == 1
        if name == "go":
            assert x[r, 0, 34] == 1


def test_evaluation_set_is_fixed_and_per_task():
    a = evaluation_set(["go", "dms_intr"], trials_per_task=8, seed=2)
    b = evaluation_set(["dms_intr"], trials_per_task=8, seed=2, rule_tasks=["go", "dms_intr"])
    np.testing.assert_array_equal(a["dms_intr"][0], b["dms_intr"][0])
    np.testing.assert_array_equal(a["dms_intr"][1], b["dms_intr"][1])
    x, y, w, info = a["dms_intr"]
    assert x.shape[0] == 8 and x.shape[2] == 35 and len(info) == 8
    assert (x[..., 34].max(1) == 1).all()
    full = evaluation_set("modcog84", trials_per_task=2)
    assert list(full) == tasks.names("modcog84")


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(tasks="modcog85"), ValueError, "modcog85"),
        (dict(tasks=["go", "flyaway"]), ValueError, "flyaway"),
        (dict(tasks=[]), ValueError, "tasks=[]"),
        (dict(batch_size=0), ValueError, "batch_size=0"),
        (dict(seq_len=0), ValueError, "seq_len=0"),
        (dict(batch_size=2.5), TypeError, "batch_size=2.5"),
        (dict(layout="rows"), ValueError, "layout='rows'"),
        (dict(loss_weighting="heavy"), ValueError, "loss_weighting='heavy'"),
        (dict(dt=0), ValueError, "dt=0"),
        (dict(num_batches=0), ValueError, "num_batches=0"),
    ],
)
def test_bad_dataset_arguments_raise(kwargs, error, words):
    with pytest.raises(error) as info:
        TaskDataset(**{"tasks": "yang20", **kwargs})
    assert words in str(info.value)
