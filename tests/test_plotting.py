"""Chart set-up shared by every figure (base/plotting.py)."""

import matplotlib
import matplotlib.pyplot as plt
import pytest

from officemine.base.plotting import chart_style, empty_note, rows_axes

matplotlib.use("Agg")


@pytest.mark.parametrize("rows, height", [(0, 0.5 * 3 + 1.2), (2, 0.5 * 3 + 1.2),
                                          (10, 0.5 * 10 + 1.2)])
def test_a_bar_chart_grows_a_row_at_a_time_from_three(rows, height):
    with chart_style():
        ax = rows_axes(None, rows, width=7, per_row=0.5, layout="constrained")
    try:
        assert tuple(ax.figure.get_size_inches()) == pytest.approx((7, height))
        assert ax.figure.get_layout_engine() is not None
    finally:
        plt.close(ax.figure)


def test_given_axes_are_drawn_on_and_an_empty_chart_says_why():
    fig, given = plt.subplots(figsize=(3, 2))
    try:
        assert rows_axes(given, 40, width=9, per_row=1.0) is given
        assert tuple(fig.get_size_inches()) == pytest.approx((3, 2))
        empty_note(given, "本月无超期事项", color="#868e96")
        (note,) = given.texts
        assert note.get_text() == "本月无超期事项" and note.get_position() == (0.5, 0.5)
        assert note.get_transform() is given.transAxes and note.get_color() == "#868e96"
        assert (note.get_ha(), note.get_va()) == ("center", "center")
    finally:
        plt.close(fig)
