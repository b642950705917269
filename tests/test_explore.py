"""Unit tests for kmnist.data.explore (paging, statistics, sampling, projections) and the Dataset charts."""

import numpy as np
import pytest

from kmnist.charts import clicks, dataset
from kmnist.data import explore
from kmnist.data.classes import CLASSES
from kmnist.inspect import features as features_inspect


def test_class_indices_picks_only_chosen_classes_in_order():
    labels = np.array([3, 1, 3, 0, 1], dtype=np.uint8)
    assert explore.class_indices(labels, [3]).tolist() == [0, 2]
    assert explore.class_indices(labels, [1, 0]).tolist() == [1, 3, 4]
    assert explore.class_indices(labels, []).tolist() == []
    assert explore.class_indices(labels).tolist() == [0, 1, 2, 3, 4]


def test_page_count_and_paginate_clamp_and_slice():
    assert explore.page_count(0, 48) == 1
    assert explore.page_count(48, 48) == 1
    assert explore.page_count(49, 48) == 2
    with pytest.raises(ValueError):
        explore.page_count(10, 0)
    indices = np.arange(100, 200)
    page = explore.paginate(indices, 2, 48)
    assert (page.number, page.count, page.first, page.last, page.total) == (2, 3, 49, 96, 100)
    assert page.indices.tolist() == list(range(148, 196))
    last = explore.paginate(indices, 99, 48)  # past the end: the last page
    assert (last.number, last.first, last.last) == (3, 97, 100)
    assert explore.paginate(indices, -5, 48).number == 1
    empty = explore.paginate(np.arange(0), 1, 48)
    assert (empty.first, empty.last, len(empty.indices)) == (0, 0, 0)


def test_stratified_sample_is_balanced_reproducible_and_handles_small_classes():
    labels = np.array([0] * 100 + [1] * 100 + [2] * 5)
    sample = explore.balanced_sample(labels, 45, seed=3)
    counts = np.bincount(labels[sample])
    assert len(sample) == 45 and counts.tolist() == [20, 20, 5]
    assert len(np.unique(sample)) == 45 and np.all(np.diff(sample) > 0)
    assert np.array_equal(sample, explore.balanced_sample(labels, 45, seed=3))
    assert not np.array_equal(sample, explore.balanced_sample(labels, 45, seed=4))
    assert len(explore.balanced_sample(labels, 1000)) == len(labels)


def test_class_examples_gives_members_of_each_class(synthetic):
    _, labels = synthetic
    examples = explore.class_examples(labels, per_class=3, seed=0)
    assert len(examples) == 10
    for c, positions in enumerate(examples):
        assert len(positions) == 3 and set(labels[positions]) == {c}
    labels_short = labels.copy()
    labels_short[labels_short == 9] = 8  # class 9 now absent: an empty row, no error
    assert len(explore.class_examples(labels_short, per_class=3)[9]) == 0


def test_selected_index_reads_customdata():
    assert clicks.selected_index([{"x": 1, "y": 2, "customdata": [17, "0 お (o)"]}]) == 17
    assert clicks.selected_index([{"x": 1}, {"customdata": [5]}]) == 5
    assert clicks.selected_index([]) is None
    assert clicks.selected_index(None) is None


def test_class_counts_and_mean_images(synthetic):
    images, labels = synthetic
    assert explore.class_counts(labels).tolist() == [4] * 10
    assert explore.class_counts(np.array([2, 2, 9])).tolist() == [0, 0, 2] + [0] * 6 + [1]
    means = explore.mean_images(images, labels)
    assert means.shape == (10, 28, 28) and means.dtype == np.float32
    assert means[3, 3, 3] == pytest.approx(80) and means[3, 0, 0] == 0
    half = images.copy()
    half[np.flatnonzero(labels == 3)[:2]] = 0  # two of four class-3 images blank: the mean halves
    assert explore.mean_images(half, labels)[3, 3, 3] == pytest.approx(40)
    only_zero = explore.mean_images(images[:4], labels[:4])
    assert np.all(only_zero[1:] == 0)


def test_intensity_histogram_and_ink_fraction():
    images = np.zeros((2, 28, 28), dtype=np.uint8)
    images[0, 0, :10] = 255
    images[1, 0, :5] = 100
    counts, edges = explore.intensity_histogram(images, bins=4)
    assert len(edges) == 5 and edges[0] == 0 and edges[-1] == 256
    assert counts.tolist() == [2 * 784 - 15, 5, 0, 10]
    counts, _ = explore.intensity_histogram(images, bins=4, skip_background=True)
    assert counts.tolist() == [0, 5, 0, 10]
    assert explore.ink_fraction(images) == pytest.approx(15 / (2 * 784))
    assert explore.ink_fraction(np.zeros((0, 28, 28))) == 0.0


def test_pca_projection_separates_two_groups():
    rng = np.random.default_rng(0)
    group_a = np.zeros((20, 28, 28)) + rng.integers(0, 20, (20, 28, 28))
    group_b = group_a.copy()
    group_b[:, 5:20, 5:20] += 200
    coordinates, ratio = explore.pca_projection(np.concatenate([group_a, group_b]).astype(np.uint8))
    assert coordinates.shape == (40, 2) and ratio.shape == (2,)
    assert 0 < ratio[1] <= ratio[0] <= 1
    first = coordinates[:, 0]
    assert first[:20].max() < first[20:].min() or first[20:].max() < first[:20].min()


def test_tsne_projection_shape_and_clusters():
    rng = np.random.default_rng(1)
    blobs = np.zeros((60, 28, 28), dtype=np.uint8)
    for g in range(3):
        blobs[g * 20:(g + 1) * 20, g * 9:g * 9 + 9, :] = 200
    blobs = np.clip(blobs + rng.integers(0, 30, blobs.shape), 0, 255).astype(np.uint8)
    coordinates = explore.tsne_projection(blobs, seed=0, perplexity=10, iterations=250)
    assert coordinates.shape == (60, 2) and coordinates.dtype == np.float32
    centres = np.array([coordinates[g * 20:(g + 1) * 20].mean(axis=0) for g in range(3)])
    spread = max(coordinates[g * 20:(g + 1) * 20].std(axis=0).max() for g in range(3))
    gaps = [np.linalg.norm(centres[a] - centres[b]) for a, b in ((0, 1), (0, 2), (1, 2))]
    assert min(gaps) > spread  # the three groups form three separate clusters


def test_dataset_charts_carry_data():
    balance = dataset.class_balance_figure({"train": [7] * 10, "test": [2] * 10})
    assert [t.name for t in balance.data] == ["train (70)", "test (20)"]
    assert list(balance.data[0].y) == [7] * 10
    counts, edges = np.histogram([0, 10, 250], bins=4, range=(0, 256))
    histogram = dataset.intensity_histogram_figure(counts, edges, log_y=True)
    assert list(histogram.data[0].y) == [2, 0, 0, 1] and histogram.layout.yaxis.type == "log"
    coordinates = np.array([[0, 0], [1, 1], [2, 2]])
    scatter = dataset.projection_figure(coordinates, [0, 0, 5], [10, 11, 12], "t")
    assert [t.name for t in scatter.data] == [CLASSES[0].label, CLASSES[5].label]
    assert [list(p) for p in scatter.data[1].customdata] == [[12, 5]]  # position, class index
    assert CLASSES[5].label in scatter.data[1].hovertemplate


def test_page_clamping_and_tsne_sizes():
    assert [explore.clamp_page(p, 4) for p in (-3, 0, 1, 4, 9)] == [1, 1, 1, 4, 4]
    assert explore.clamp_page(5, 0) == 1  # an empty selection still has page 1
    assert explore.tsne_sizes(7000) == list(explore.TSNE_SIZES)
    assert explore.tsne_sizes(600) == [300, 500] and explore.tsne_sizes(120) == [120]


# --- Learned features and 2-D maps ----------------------------------------------------------------

@pytest.fixture(scope="module")
def untrained_studio():
    import keras

    from kmnist.network.architectures import build_model

    keras.utils.set_random_seed(0)
    return build_model("max")


def test_learned_features_are_the_hidden_dense_layer_and_reproducible(untrained_studio, synthetic):
    images, _ = synthetic
    assert features_inspect.feature_layer(untrained_studio) == "dense"
    features = features_inspect.learned_features(untrained_studio, images)
    assert features.shape == (40, 256) and features.dtype == np.float32
    assert features.min() >= 0 and features.max() > 0  # ReLU units, not all silent
    again = features_inspect.learned_features(untrained_studio, images, batch_size=7)  # same features
    np.testing.assert_allclose(again, features, rtol=1e-4, atol=1e-5)
    assert not np.allclose(features[0], features[-1])  # different images, different features


def test_a_model_without_hidden_dense_layer_is_refused_with_the_reason():
    import keras

    inputs = keras.Input((28, 28, 1))
    outputs = keras.layers.Dense(10, activation="softmax")(keras.layers.Flatten()(inputs))
    flat_model = keras.Model(inputs, outputs, name="flat")
    with pytest.raises(ValueError, match="flat has no hidden Dense layer"):
        features_inspect.learned_features(flat_model, np.zeros((2, 28, 28), np.uint8))


def test_neighbour_agreement_measures_how_classes_stay_apart():
    apart = np.array([[0, 0], [0, 1], [10, 0], [10, 1]])
    assert explore.neighbour_agreement(apart, np.array([0, 0, 1, 1])) == 1.0
    line = np.arange(6)[:, None] * [1.0, 0.0]
    assert explore.neighbour_agreement(line, np.array([0, 1, 0, 1, 0, 1])) == 0.0
    twins = np.array([[0, 0], [0, 0], [5, 5], [5, 5]])  # duplicates: the other twin is the neighbour
    assert explore.neighbour_agreement(twins, np.array([3, 3, 4, 4])) == 1.0
    with pytest.raises(ValueError, match="at least 2 points"):
        explore.neighbour_agreement(np.zeros((1, 2)), np.array([0]))


def test_map_2d_pca_and_tsne_shapes_and_determinism(synthetic):
    images, labels = synthetic
    pca = explore.map_2d(images, labels, "PCA")
    assert pca.positions.tolist() == list(range(40)) and pca.coordinates.shape == (40, 2)
    assert pca.axes[0].startswith("PC 1 (") and pca.axes[0].endswith("% of variance)")
    assert pca.agreement == 1.0  # each class is one image repeated: its twins are its neighbours
    features = np.random.default_rng(0).random((40, 16), dtype=np.float32)  # feature vectors too
    tsne = explore.map_2d(features, labels, "t-SNE", size=20, seed=3)
    assert len(tsne.positions) == 20 and tsne.coordinates.shape == (20, 2)
    assert np.bincount(labels[tsne.positions]).tolist() == [2] * 10  # balanced sample
    same = explore.map_2d(features, labels, "t-SNE", size=20, seed=3)
    assert np.array_equal(same.positions, tsne.positions)
    assert np.array_equal(same.coordinates, tsne.coordinates)
    assert not np.array_equal(explore.map_2d(features, labels, "t-SNE", size=20, seed=4).positions,
                              tsne.positions)
    with pytest.raises(ValueError, match="sample size"):
        explore.map_2d(images, labels, "t-SNE")
    with pytest.raises(ValueError, match="unknown map method 'UMAP'"):
        explore.map_2d(images, labels, "UMAP")


def test_a_big_split_is_mapped_on_a_balanced_sample_and_needs_features_for_it_only(synthetic, monkeypatch):
    images, labels = synthetic
    monkeypatch.setattr(explore, "MAP_POINTS", 20)  # 40 images: more than a map shows
    positions = explore.map_positions(labels, "PCA")
    assert len(positions) == 20 and np.bincount(labels[positions]).tolist() == [2] * 10
    pixels = explore.map_2d(images, labels, "PCA")  # one row per image of the split
    assert np.array_equal(pixels.positions, positions) and pixels.coordinates.shape == (20, 2)
    features = np.random.default_rng(0).random((20, 16), dtype=np.float32)  # one row per mapped image
    learned = explore.map_2d(features, labels, "PCA")
    assert np.array_equal(learned.positions, positions)
    monkeypatch.setattr(explore, "MAP_POINTS", 40)
    assert explore.map_positions(labels, "PCA").tolist() == list(range(40))


def test_split_statistics_give_the_same_numbers_in_one_pass(synthetic):
    images, labels = synthetic
    images = images.copy()
    images[0, 0, :3] = [1, 128, 255]  # values at the edges of the bins too
    numbers = explore.split_statistics(images, labels)
    assert numbers.class_counts.tolist() == explore.class_counts(labels).tolist()
    np.testing.assert_array_equal(numbers.mean_images, explore.mean_images(images, labels))
    assert numbers.ink_fraction == pytest.approx(explore.ink_fraction(images))
    for skip in (False, True):
        counts, edges = numbers.intensity_histogram(bins=32, skip_background=skip)
        expected_counts, expected_edges = explore.intensity_histogram(images, bins=32, skip_background=skip)
        assert counts.tolist() == expected_counts.tolist() and edges.tolist() == expected_edges.tolist()
    with pytest.raises(ValueError):  # shared between sessions: read-only
        numbers.value_counts[0] = 1


def test_map_2d_reports_each_step_as_it_starts(synthetic):
    images, labels = synthetic
    heard = []
    explore.map_2d(images, labels, "PCA", progress=lambda fraction, stage: heard.append((fraction, stage)))
    assert heard == [(0.0, "PCA of 40 images"), (0.9, "nearest neighbours on the map"), (1.0, "done")]
    heard.clear()
    explore.map_2d(images, labels, "t-SNE", size=20, progress=lambda fraction, stage: heard.append(stage))
    assert heard[0] == f"t-SNE of 20 images (about {explore.tsne_seconds(20)} s)" and heard[-1] == "done"
