import torch

from trainfree.data import load_dataset, normalise
from trainfree.spaces import nb201
from trainfree.training import STATE_COLUMNS, TrainConfig, train_arch


def _data():
    ds = load_dataset("digits")
    return (normalise(ds.x_train[:256]), torch.from_numpy(ds.y_train[:256]),
            normalise(ds.x_test[:128]), torch.from_numpy(ds.y_test[:128]))


def test_training_states_deterministic_and_learning(tmp_path):
    data = _data()
    cfg = TrainConfig(epochs=2, batch_size=32)
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = nb201.build_model(nb201.EXAMPLE, C=4, N=1)
        runs.append(train_arch(model, nb201.EXAMPLE, data, cfg, seed=1, checkpoint_dir=tmp_path,
                               checkpoint_epochs=(2,)))
    a, b = runs
    assert list(a.columns) == STATE_COLUMNS
    assert len(a) == 3 * 2  # epochs 0..2 x train/test
    assert a[["loss", "acc"]].equals(b[["loss", "acc"]])
    tr = a[a.split == "train"].set_index("epoch")
    assert tr.loc[2, "loss"] < tr.loc[0, "loss"]  # it learns
    assert (a.seconds.diff().fillna(0) >= -1e-12).all() and a.seconds.iloc[0] == 0
    state = torch.load(tmp_path / "epoch_2.pt")
    assert "classifier.weight" in state
