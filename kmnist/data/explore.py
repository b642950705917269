"""The Dataset explorer's numbers: picking and paging images, class statistics, 2-D maps (PCA, t-SNE)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kmnist.data.classes import NUM_CLASSES
from kmnist.data.pixels import to_float


def class_indices(labels: np.ndarray, classes: Sequence[int] | None = None) -> np.ndarray:
    """Positions of the images whose label is in `classes` (all when None), in data set order."""
    if classes is None:
        return np.arange(len(labels))
    return np.flatnonzero(np.isin(labels, np.asarray(list(classes), dtype=labels.dtype)))


@dataclass(frozen=True)
class Page:
    """One page of a gallery: which positions it shows and where it sits among all pages."""

    number: int  # 1-based, clamped into 1..count
    count: int
    indices: np.ndarray
    first: int  # 1-based rank of the first image on the page among the selection (0 if empty)
    last: int
    total: int


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill; at least one, so an empty selection still has page 1."""
    if per_page < 1:
        raise ValueError(f"per_page must be at least 1, not {per_page}")
    return max(1, -(-total // per_page))


def clamp_page(page: int, count: int) -> int:
    """A 1-based page number brought into 1..count."""
    return min(max(int(page), 1), max(count, 1))


def paginate(indices: np.ndarray, page: int, per_page: int) -> Page:
    """The `page`-th slice (1-based, clamped to the valid range) of `indices`."""
    count = page_count(len(indices), per_page)
    page = clamp_page(page, count)
    start = (page - 1) * per_page
    chosen = np.asarray(indices[start:start + per_page])
    first = start + 1 if len(chosen) else 0
    return Page(page, count, chosen, first, start + len(chosen), len(indices))


def balanced_sample(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """About `size` positions with every class as equally represented as the data allows, sorted.

    Classes smaller than their share give all their images; the rest is spread over the others.
    """
    labels = np.asarray(labels)
    if size >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    groups = [rng.permutation(np.flatnonzero(labels == c)) for c in np.unique(labels)]
    quota = np.zeros(len(groups), dtype=int)
    remaining = size
    open_groups = list(range(len(groups)))
    while remaining > 0 and open_groups:  # water-filling: small classes give all, others share the rest
        share = max(1, remaining // len(open_groups))
        for g in list(open_groups):
            take = min(share, len(groups[g]) - quota[g], remaining)
            quota[g] += take
            remaining -= take
            if quota[g] == len(groups[g]):
                open_groups.remove(g)
            if remaining == 0:
                break
    return np.sort(np.concatenate([group[:q] for group, q in zip(groups, quota, strict=True)]))


def class_examples(labels: np.ndarray, per_class: int, seed: int = 0) -> list[np.ndarray]:
    """For each class 0..9, up to `per_class` random positions of its images (fewer if it has fewer)."""
    rng = np.random.default_rng(seed)
    examples = []
    for c in range(NUM_CLASSES):
        members = np.flatnonzero(labels == c)
        examples.append(np.sort(rng.choice(members, size=min(per_class, len(members)), replace=False)))
    return examples


def class_counts(labels: np.ndarray) -> np.ndarray:
    """Images per class 0..9 (zeros for classes that do not occur)."""
    return np.bincount(np.asarray(labels, dtype=np.int64), minlength=NUM_CLASSES)[:NUM_CLASSES]


def mean_images(images: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The average image of each class, float32 (10, 28, 28) in 0..255; zeros for an absent class."""
    means = np.zeros((NUM_CLASSES, *images.shape[1:]), dtype=np.float32)
    for c in range(NUM_CLASSES):
        members = images[labels == c]
        if len(members):
            means[c] = members.mean(axis=0, dtype=np.float64)
    return means


def intensity_histogram(images: np.ndarray, bins: int = 32, skip_background: bool = False):
    """Pixel counts over 0..255 in `bins` equal bins; without the pure-black pixels if asked.

    Returns (counts, edges) like np.histogram: len(edges) == bins + 1.
    """
    pixels = np.asarray(images).ravel()
    if skip_background:
        pixels = pixels[pixels > 0]
    return np.histogram(pixels, bins=bins, range=(0, 256))


def ink_fraction(images: np.ndarray) -> float:
    """Share of pixels that are not pure background (value 0)."""
    images = np.asarray(images)
    return float(np.count_nonzero(images)) / images.size if images.size else 0.0


@dataclass(frozen=True)
class SplitStatistics:
    """A split's numbers for the statistics section, computed in one pass (split_statistics): images per
    class, the mean image of each class, how many pixels have each value 0..255, and the share of ink."""

    class_counts: np.ndarray
    mean_images: np.ndarray
    value_counts: np.ndarray  # (256,): pixels with each value
    ink_fraction: float

    def intensity_histogram(self, bins: int = 32, skip_background: bool = False):
        """As intensity_histogram(images, bins, skip_background), from the counted values."""
        counts = self.value_counts.copy()
        if skip_background:
            counts[0] = 0
        return np.histogram(np.arange(256), bins=bins, range=(0, 256), weights=counts)


def split_statistics(images: np.ndarray, labels: np.ndarray) -> SplitStatistics:
    """Everything the statistics section shows of one split (for the official 60,000 training images,
    counting every pixel value once instead of a histogram per redraw)."""
    images = np.asarray(images)
    values, _ = np.histogram(images.ravel(), bins=256, range=(0, 256))  # faster than np.bincount on uint8
    total = int(values.sum())
    ink = float(total - values[0]) / total if total else 0.0
    statistics = SplitStatistics(class_counts(labels), mean_images(images, labels), values, ink)
    for array in (statistics.class_counts, statistics.mean_images, statistics.value_counts):
        array.setflags(write=False)  # shared between sessions by the page's cache
    return statistics


def _flat(images: np.ndarray) -> np.ndarray:
    """Images (uint8 or float) or feature vectors -> float32 (N, values), one row per item."""
    return to_float(images).reshape(len(images), -1)


def pca_projection(images: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Principal component analysis to 2-D: (coordinates (N, 2), explained variance ratio (2,)).

    `images` may also be feature vectors (N, units), e.g. from learned_features.
    """
    from sklearn.decomposition import PCA

    pca = PCA(n_components=2, random_state=seed)
    coordinates = pca.fit_transform(_flat(images))
    return coordinates.astype(np.float32), pca.explained_variance_ratio_


TSNE_SIZES = (300, 500, 1000, 2000)  # sample sizes offered for t-SNE (it cannot map everything quickly)


def tsne_sizes(available: int) -> list[int]:
    """The t-SNE sample sizes that `available` images allow (all of them when fewer than the smallest)."""
    return [size for size in TSNE_SIZES if size <= available] or [available]


def tsne_projection(images: np.ndarray, seed: int = 0, perplexity: float = 30.0,
                    iterations: int = 500) -> np.ndarray:
    """t-SNE to 2-D after PCA to 50 dimensions (the usual speed-up); (N, 2) float32.

    `images` may also be feature vectors (N, units), e.g. from learned_features. 500 iterations
    (sklearn's default is 1,000) already separate the KMNIST classes clearly and halve the wait.
    """
    from sklearn.decomposition import PCA
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    flat = _flat(images)
    # One thread: on a shared or busy machine, OpenMP threads fighting for cores slow t-SNE down many times.
    with threadpool_limits(limits=1):
        reduced = PCA(n_components=min(50, *flat.shape), random_state=seed).fit_transform(flat)
        perplexity = min(perplexity, max(1.0, (len(flat) - 1) / 3))
        tsne = TSNE(n_components=2, perplexity=perplexity, init="pca", max_iter=max(250, iterations),
                    random_state=seed)
        return tsne.fit_transform(reduced).astype(np.float32)


METHODS = ("PCA", "t-SNE")  # the 2-D maps the Dataset explorer offers


@dataclass(frozen=True)
class Map2D:
    """A 2-D map: which images it shows (positions in the split), where, its axis names, and the
    share of its points whose nearest neighbour has their class (neighbour_agreement)."""

    positions: np.ndarray
    coordinates: np.ndarray
    axes: tuple[str, str]
    agreement: float


MAP_POINTS = 10_000  # the most images a PCA map shows: beyond, a balanced sample (the official train split
# has 60,000: mapping them all took the Dataset explorer's first visit from 3.6 s to 28 s)


def map_positions(labels: np.ndarray, method: str, size: int | None = None, seed: int = 0) -> np.ndarray:
    """Which images of a split the `method` map shows: PCA all of them, up to MAP_POINTS (beyond, a
    balanced sample of MAP_POINTS); t-SNE a balanced sample of `size` (see tsne_sizes)."""
    if method == "PCA":
        everything = len(labels) <= MAP_POINTS
        return np.arange(len(labels)) if everything else balanced_sample(labels, MAP_POINTS, seed)
    if method == "t-SNE":
        if size is None:
            raise ValueError("a t-SNE map needs a sample size (see tsne_sizes)")
        return balanced_sample(labels, size, seed=seed)
    raise ValueError(f"unknown map method {method!r}; choose one of {', '.join(METHODS)}")


Progress = Callable[[float, str], None]  # progress(fraction done 0..1, what is being done now)


def tsne_seconds(size: int) -> int:
    """About how long a t-SNE map of `size` images takes on this project's 2-core machine."""
    return max(3, size // 200)


def map_2d(vectors: np.ndarray, labels: np.ndarray, method: str, size: int | None = None,
           seed: int = 0, progress: Progress | None = None) -> Map2D:
    """The `method` map (METHODS) of the images at map_positions: from `vectors`, one row per image of
    the split (pixels) or one per map position (learned features, computed for those only); the same
    arguments always give the same map. `progress`, if given, hears each step as it starts."""
    report = progress or (lambda fraction, stage: None)
    labels = np.asarray(labels)
    positions = map_positions(labels, method, size, seed)
    shown = vectors if len(vectors) == len(positions) else np.asarray(vectors)[positions]
    if method == "PCA":
        report(0.0, f"PCA of {len(positions):,} images")
        coordinates, ratio = pca_projection(shown, seed=seed)
        axes = (f"PC 1 ({ratio[0]:.1%} of variance)", f"PC 2 ({ratio[1]:.1%} of variance)")
    else:
        report(0.0, f"t-SNE of {len(positions):,} images (about {tsne_seconds(len(positions))} s)")
        coordinates = tsne_projection(shown, seed=seed)
        axes = ("t-SNE 1", "t-SNE 2")
    report(0.9, "nearest neighbours on the map")
    agreement = neighbour_agreement(coordinates, labels[positions])
    report(1.0, "done")
    return Map2D(positions, coordinates, axes, agreement)


def neighbour_agreement(coordinates: np.ndarray, labels: np.ndarray) -> float:
    """Share of points whose nearest other point in the map has the same class: how well a 2-D map
    keeps the classes apart (about 0.1 for ten well-mixed classes, 1.0 for ten clean clusters)."""
    from sklearn.neighbors import NearestNeighbors

    coordinates, labels = np.asarray(coordinates, dtype=np.float64), np.asarray(labels)
    if len(labels) < 2:
        raise ValueError(f"neighbour agreement needs at least 2 points, not {len(labels)}")
    _, nearest = NearestNeighbors(n_neighbors=2).fit(coordinates).kneighbors(coordinates)
    # nearest[:, 0] is the point itself, unless duplicates tie with it: take the first other one
    own = np.arange(len(labels))
    neighbour = np.where(nearest[:, 0] == own, nearest[:, 1], nearest[:, 0])
    return float(np.mean(labels[neighbour] == labels))
