"""kmnist.evaluation.confusion: the matrix, the cells and their images, and which cell a click picks."""

import numpy as np

from kmnist.evaluation import confusion


def test_cells_run_row_by_row_and_each_knows_its_place():
    assert len(confusion.CELLS) == 100 and confusion.CELLS[0] == confusion.Cell(0, 0)
    assert [cell.index for cell in confusion.CELLS] == list(range(100))
    assert confusion.CELLS[37] == confusion.Cell(true=3, predicted=7)
    assert confusion.Cell(9, 0).words == "true を (wo), predicted お (o)"


def test_the_matrix_counts_every_pair_of_true_and_predicted_classes():
    labels = [9, 9, 9, 0, 4]
    predicted = [9, 9, 2, 0, 0]
    counts = confusion.matrix(labels, predicted)
    assert counts[9][9] == 2 and counts[9][2] == 1 and counts[0][0] == 1 and counts[4][0] == 1
    assert sum(map(sum, counts)) == 5 and counts[2][9] == 0  # rows true, columns predicted
    assert confusion.members(labels, predicted, confusion.Cell(9, 9)).tolist() == [0, 1]
    assert confusion.members(np.array(labels), np.array(predicted), confusion.Cell(4, 0)).tolist() == [4]


def test_a_selection_picks_the_cell_of_its_last_point():
    points = [{"point_index": 5}, {"point_index": 23, "curve_number": 1}]
    assert confusion.picked_cell(points) == confusion.Cell(2, 3)
    assert confusion.picked_cell([{"point_index": "23"}, {"x": 1}]) is None  # no index a cell can have
    assert confusion.picked_cell([{"point_index": -1}]) is None


def test_an_empty_selection_keeps_the_cell_picked_before():
    kept = confusion.Cell(1, 1)
    assert confusion.kept_pick([], kept) == kept  # plotly unselects the picked cell on a second click
    assert confusion.kept_pick([{"point_index": 0}], kept) == confusion.Cell(0, 0)  # another cell wins
    assert confusion.kept_pick([], None) is None
