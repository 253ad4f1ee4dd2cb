"""The PDF's text fits its boxes in both languages: measured on the rendered pages, not
guessed from character counts."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from officemine.base.plotting import chart_style  # noqa: E402
from officemine.rendering import layout  # noqa: E402
from officemine.rendering.layout import (bad_breaks, crowded, draw_table, fit_page,  # noqa: E402
                                         overflows, wrap)
from officemine.rendering.pages import _necessity_title, page_figures  # noqa: E402


def test_english_breaks_between_words_and_chinese_between_characters():
    assert wrap("median wait (working hours)", 12).split("\n") == ["median wait", "(working",
                                                                   "hours)"]
    assert wrap("不作必要性判断（不审批）", 10).split("\n") == ["不作必要性", "判断（不审", "批）"]
    assert wrap("abcdefghij", 4).split("\n") == ["abcd", "efgh", "ij"]    # too long: cut
    assert wrap("财务初审 waiting", 8).split("\n") == ["财务初审", "waiting"]
    assert wrap("abcdefghij", 4, cut=False) == "abcdefghij"


def test_punctuation_stays_with_its_word():
    # a closing mark never starts a line, an opening one never ends one, in either script
    assert wrap("审核（人员-3551、人员-f500，3.4）", 12).split("\n") == [
        "审核（人员", "-3551、人员", "-f500，3.4）"]
    assert wrap("审核（人员-3551、", 6).split("\n") == ["审核", "（人员", "-355", "1、"]
    assert wrap("holder (arrived)", 9).split("\n") == ["holder", "(arrived)"]
    assert wrap("(abcdefgh)", 4).split("\n") == ["(abc", "defg", "h)"]   # cut, ")" kept
    assert wrap("财务初审(pending)。", 12).split("\n") == ["财务初审", "(pending)。"]


def _table_figure(frame, widths, fontsize=8.0):
    fig = plt.figure(figsize=(11.69, 8.27))
    draw_table(fig.add_axes([0.1, 0.5, 0.5, 0.3]), frame, widths=widths, fontsize=fontsize)
    return fig


def test_a_word_gets_room_from_wider_columns_instead_of_being_cut():
    frame = pd.DataFrame({"a title with room to spare": ["Person-712a55c190c7 (10-31 15:04)"],
                          "reminders": [1]})
    with chart_style():
        fig = _table_figure(frame, widths=[0.97, 0.03])
        table = fig.axes[0].tables[0]
        assert table[0, 1].get_text().get_text() == "reminders"
        assert bad_breaks(fig) == [] and overflows(fig) == []
        plt.close(fig)
        # a word wider than the whole table is cut: nothing else can hold it
        fig = _table_figure(pd.DataFrame({"n": ["x" * 400]}), widths=[1.0])
        assert "\n" in fig.axes[0].tables[0][1, 0].get_text().get_text()
        assert bad_breaks(fig) == []
        plt.close(fig)


def test_the_measure_sees_a_bad_break(monkeypatch):
    """`bad_breaks` fails a wrapper that breaks anywhere (each character a token) and a
    cell's text broken by hand before a closing mark or in a word that fits."""
    frame = pd.DataFrame({"holder (arrived)": ["Person-712a55c190c7 (10-31 15:04) waited"],
                          "where": ["部门负责人审核（人员-3551d40e529a、人员-f5008b566710，3.4）"]})
    with chart_style():
        fig = _table_figure(frame, widths=[0.5, 0.5])
        assert bad_breaks(fig) == []
        cell = fig.axes[0].tables[0][1, 1].get_text()
        cell.set_text("部门负责人审核（人员-3551d40e529a、人员-f5008b566710，3.4\n）")
        assert [p for p in bad_breaks(fig) if "punctuation alone" in p], bad_breaks(fig)
        cell.set_text("部门负责人审核（\n人员-3551d40e529a、人员-f5008b566710，3.4）")
        assert [p for p in bad_breaks(fig) if "opening mark" in p], bad_breaks(fig)
        cell = fig.axes[0].tables[0][1, 0].get_text()
        cell.set_text("Person-712a55c190c7 (10-31 15:\n04) waited")
        assert [p for p in bad_breaks(fig) if "splits '15:04)'" in p], bad_breaks(fig)
        plt.close(fig)
        monkeypatch.setattr(layout, "_tokens", list)        # the planted bug: break anywhere
        fig = _table_figure(frame, widths=[0.25, 0.75], fontsize=9)
        assert bad_breaks(fig), "a wrapper that breaks inside words went unseen"
        plt.close(fig)


def test_the_measure_sees_text_past_its_box_and_fitting_cures_it():
    with chart_style():
        fig = plt.figure(figsize=(11.69, 8.27))
        tile = fig.add_axes([0.1, 0.5, 0.15, 0.2])
        tile.text(0.06, 0.6, "1.90 working days", fontsize=24, transform=tile.transAxes)
        fig.text(0.04, 0.9, "A page title far too long for the page " * 4, fontsize=17)
        table = fig.add_axes([0.1, 0.1, 0.3, 0.3])
        draw_table(table, pd.DataFrame({"n": [1], "a heading much wider than its column": [2]}),
                   widths=[0.8, 0.2], fontsize=9)
        found = overflows(fig)
        assert len(found) == 2, found          # the tile and the title; the table fits itself
        fit_page(fig)
        assert overflows(fig) == []
        assert fig.texts[-1].get_fontsize() < 17 and tile.texts[0].get_fontsize() < 24
        plt.close(fig)


def test_a_chart_keeps_its_title_over_it_and_its_labels_on_the_page():
    with chart_style():
        fig = plt.figure(figsize=(11.69, 8.27))
        ax = fig.add_axes([0.02, 0.5, 0.3, 0.3])
        ax.barh([0, 1], [3, 1])
        ax.set_yticks([0, 1], ["Person-712a55c190c7", "Person-d3cd20d417c1"])
        ax.set_title("Hand-offs per case, all process types, the last twelve months",
                     fontsize=12)
        ax.text(0, 1.0, " redesign", transform=ax.get_xaxis_transform(), va="top")
        ax.text(0.5, 1.0, " redesign", transform=ax.get_xaxis_transform(), va="top")
        found = overflows(fig)
        assert any("tick label runs off" in f for f in found), found
        assert any("title is wider" in f for f in found), found
        assert len(crowded(fig)) == 1, crowded(fig)
        fit_page(fig)
        assert overflows(fig) == [] and ax.get_position().x0 > 0.04
        plt.close(fig)


def test_a_table_taller_than_its_space_takes_smaller_type():
    with chart_style():
        fig = plt.figure(figsize=(11.69, 8.27))
        ax = fig.add_axes([0.04, 0.07, 0.92, 0.2])
        draw_table(ax, pd.DataFrame({"node": [f"节点{i}" for i in range(8)],
                                     "reason": ["returns a lot of items"] * 8}), fontsize=9)
        assert overflows(fig) == []
        plt.close(fig)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_page_of_the_review_fits_in_both_languages(sample_reviews, lang):
    """Every page of the session's sample review (`conftest.sample_reviews`: conformance, a
    scenario, two redesigns, the ledger's month, pseudonyms): its text fits its boxes, a
    chart's texts stand apart (`crowded`) and no table cell breaks a line badly
    (`bad_breaks`)."""
    review, config = sample_reviews.reviews[lang], sample_reviews.config
    found, titles = {}, []
    with chart_style():
        for number, fig in enumerate(page_figures(review), start=1):
            titles.append(fig.texts[0].get_text())
            # the necessity chart names its points where they lie (necessity.chart: not yet
            # kept apart)
            close = crowded(fig) if titles[-1] != _necessity_title(review) else []
            if problems := overflows(fig) + bad_breaks(fig) + close:
                found[number] = problems
            plt.close(fig)
    assert len(titles) >= 13 and not found, found
    # each before/after page is of its own redesign
    before_after = [t for t in titles if "改革前后" in t or "Before and after" in t]
    assert len(before_after) == len(config.redesigns)
    for redesign, title in zip(config.redesigns, before_after):
        assert redesign.name in title, (redesign.name, title)
