"""Which official images a copy holds and a model saw: the two shared copies, cards, fair figures."""

import json

import numpy as np
import pytest

from kmnist.data import files as kdata
from kmnist.data import origins
from kmnist.evaluation.unseen import unseen_test
from kmnist.registry.cards import Card
from kmnist.training.pipeline import split_indices, train_val_split, training_subset


def test_each_shared_copy_says_which_official_images_it_holds(shared_copies):
    offline, subset = shared_copies["kmnist-offline"], shared_copies["kmnist-subset"]
    splits = {name: {split: origin.split for split, origin in copy.origins.items()}
              for name, copy in shared_copies.items()}
    assert splits["kmnist-subset"] == {"train": "train", "test": "test"}
    assert subset.origins["train"].positions.tolist() == list(range(6284))
    assert splits["kmnist-offline"] == {"train": "test", "test": "test"}
    # the subset's 9,000 test images are exactly the images of kmnist-offline, both splits
    offline_positions = np.concatenate([offline.origins[s].positions for s in ("train", "test")])
    assert sorted(offline_positions.tolist()) == sorted(subset.origins["test"].positions.tolist())
    where = {p: i for i, p in enumerate(subset.origins["test"].positions.tolist())}
    picked = [where[p] for p in offline.origins["test"].positions[:50].tolist()]
    assert np.array_equal(subset.x_test[picked], offline.x_test[:50])  # the positions name the same images


def test_a_copy_says_precisely_what_it_is(shared_copies, tmp_path):
    subset = shared_copies["kmnist-subset"].provenance
    assert ("a subset of the official KMNIST release (train 6,284 of 60,000, test 9,000 of 10,000)"
            in subset.summary)
    offline = shared_copies["kmnist-offline"].provenance
    assert "its training images are official test images" in offline.summary
    assert "NOT the official KMNIST release" in offline.summary and "kmnist-offline" in offline.summary
    for name in kdata.OFFICIAL_MD5:  # the same files without their indices: nothing says what they are
        (tmp_path / name).symlink_to(kdata.resolve_data_dir(subset.directory) / name)
    bare = kdata.load(tmp_path)
    assert bare.origins == {"train": None, "test": None} and "unknown origin" in bare.provenance.summary
    official = origins.describe_copy(True, origins.OFFICIAL_SIZES, {})
    assert official == "the official KMNIST release (60,000 train / 10,000 test images)"


@pytest.mark.parametrize("content, problem", [("1\n2\nx\n", "one whole number per line"),
                                              ("0\n1\n", "holds 2 positions for"),
                                              ("\n".join(map(str, range(6283))) + "\n60000\n", "must lie in"),
                                              ("\n".join(map(str, range(6283))) + "\n0\n", "twice")])
def test_a_wrong_indices_file_is_refused_by_name(shared_copies, tmp_path, content, problem):
    source = kdata.resolve_data_dir(shared_copies["kmnist-subset"].provenance.directory)
    for name in kdata.OFFICIAL_MD5:
        (tmp_path / name).symlink_to(source / name)
    (tmp_path / "train-indices.txt").write_text(content)
    with pytest.raises(kdata.DataError, match=problem) as error:
        kdata.load(tmp_path)
    assert "train-indices.txt" in str(error.value)


def test_positions_round_trip_compactly():
    rng = np.random.default_rng(0)
    for split, positions in (("train", np.arange(6284)), ("test", np.sort(rng.choice(10_000, 7000, False))),
                             ("train", np.sort(rng.choice(60_000, 48_000, False))),
                             ("test", np.array([], int))):
        record = origins.encode(split, positions)
        assert origins.decode(record)[0] == split
        assert origins.decode(record)[1].tolist() == positions.tolist()
        assert record["count"] == len(positions) and len(json.dumps(record)) < 12_000
    assert len(json.dumps(origins.encode("train", np.arange(6284)))) < 200


def test_the_split_indices_are_the_images_training_uses(shared_copies):
    data = shared_copies["kmnist-offline"]
    trained, validated = split_indices(data.y_train, 3000, 0.2, 7)
    (x, y) = training_subset(data.x_train, data.y_train, 3000, 7)
    (x_train, _), (x_val, _) = train_val_split(x, y, 0.2, 7)
    assert np.array_equal(data.x_train[trained], x_train) and np.array_equal(data.x_train[validated], x_val)
    assert len(set(trained) | set(validated)) == 3000


def card_trained_on(data, limit=None) -> Card:
    """The card train() would write of a run on `data` (its data record: what the exclusion reads)."""
    trained, validated = split_indices(data.y_train, limit, 0.2, 42)
    record = data.provenance.to_dict() | origins.seen_images(data.origins["train"], trained, validated)
    return Card.from_dict({"name": "m", "data": record})


def test_a_model_trained_on_kmnist_offline_scores_on_kmnist_subset_on_the_2000_it_never_saw(shared_copies):
    offline, subset = shared_copies["kmnist-offline"], shared_copies["kmnist-subset"]
    counted = unseen_test(card_trained_on(offline), subset)
    assert counted.known and counted.left_out == 7000 and len(counted.keep) == 2000
    never = set(subset.origins["test"].positions[counted.keep].tolist())
    assert never == set(offline.origins["test"].positions.tolist())
    assert counted.line("m") == ("on the 2,000 official test images m never saw; 7,000 it trained or "
                                 "validated on are left out")
    own = unseen_test(card_trained_on(offline), offline)  # its own test split: nothing to leave out
    assert own.known and len(own.keep) == 2000 and own.left_out == 0
    fair = unseen_test(card_trained_on(subset), subset)  # official training images: every test image counts
    assert fair.known and len(fair.keep) == 9000 and "none of which m trained on" in fair.line("m")


def test_a_card_that_cannot_tell_is_labelled_so(shared_copies):
    subset = shared_copies["kmnist-subset"]
    older = Card.from_dict({"name": "old", "data": {"name": "kmnist-offline", "md5": {"x": "y"}}})
    for card in (older, None):
        counted = unseen_test(card, subset)
        assert not counted.known and len(counted.keep) == 9000
        assert "may have trained on some of these" in counted.line("old")
    same_copy = Card.from_dict({"name": "m", "data": {"md5": dict(subset.provenance.md5)}})
    assert unseen_test(same_copy, subset).known  # trained on this very copy: its test split is unseen
