"""defensa.core.geo: offline ZIP centroids and neighbourhood-size cells."""

from __future__ import annotations

import h3
import pytest

from defensa.core import geo


def test_zip_centroid_known_and_unknown():
    lat, lon = geo.zip_centroid("90033")  # type: ignore[misc]
    assert 34.0 < lat < 34.1 and -118.25 < lon < -118.15
    for bad in ("00000", "9003", "abcde", "", "90033-1234", "٩٠٠٣٣", "90033\n"):
        assert geo.zip_centroid(bad) is None


def test_cell_for_is_neighbourhood_size():
    cell = geo.cell_for(34.0487, -118.2084)
    assert h3.get_resolution(cell) == geo.AREA_RESOLUTION == 7
    assert 3 < h3.cell_area(cell, "km^2") < 8
    assert geo.is_area_cell(cell)
    assert not geo.is_area_cell(h3.cell_to_parent(cell, 6))
    assert not geo.is_area_cell("not a cell")


def test_area_cells_near_zip_codes():
    cells = geo.area_cells_near(["90033"])
    assert len(cells) == 7
    assert geo.cell_for(*geo.zip_centroid("90033")) in cells  # type: ignore[misc]
    assert geo.area_cells_near(["00000"]) == []
    both = geo.area_cells_near(["90022", "90063"])
    assert len(both) == len(set(both))


def test_cell_labels_name_the_zips_inside_or_nearby():
    cells = geo.area_cells_near(["90033"])
    labels = geo.cell_labels(cells)
    centre_cell = geo.cell_for(*geo.zip_centroid("90033"))  # type: ignore[misc]
    assert "90033" in labels[centre_cell][0] and labels[centre_cell][1] == ""
    for zips, direction in labels.values():
        assert zips
        assert direction in ("", *geo._COMPASS)


@pytest.mark.parametrize(
    ("point", "word"),
    [
        ((1.0, 0.0), "north"),
        ((0.0, 1.0), "east"),
        ((-1.0, 0.0), "south"),
        ((0.0, -1.0), "west"),
        ((1.0, 1.0), "northeast"),
    ],
)
def test_compass(point, word):
    assert geo.compass((0.0, 0.0), point) == word


def test_area_cells_from_committee_cells_of_any_resolution():
    cell = geo.cell_for(34.0487, -118.2084)
    finer = h3.cell_to_children(cell, 9)[0]
    coarser = h3.cell_to_parent(cell, 6)
    much_coarser = h3.cell_to_parent(cell, 4)
    assert geo.area_cells_from([cell]) == [cell]
    assert geo.area_cells_from([finer]) == [cell]
    children = geo.area_cells_from([coarser])
    assert len(children) == 7 and cell in children
    assert geo.area_cells_from([much_coarser]) == []  # too many to list
    assert geo.area_cells_from(["nonsense", "", cell, cell]) == [cell]


@pytest.mark.parametrize(
    "text", ["10000000000000000", "f" * 40, "-1", "", "87283472bffffff0", "zz", "８７"]
)
def test_what_is_not_a_cell_is_no_cell_however_long(text):
    # h3 raises OverflowError for hexadecimal past 64 bits: found by the broadcast form's
    # Hypothesis test as a 500 on "10000000000000000".
    assert geo.area_cells_from([text]) == []
    assert geo.is_area_cell(text) is False
    assert geo.cell_resolution(text) is None
