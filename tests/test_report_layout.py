"""The PDF's text fits its boxes in both languages: measured on the rendered pages, not
guessed from character counts."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

import officemine  # noqa: E402
from officemine.base.plotting import chart_style  # noqa: E402
from officemine.rendering.layout import draw_table, fit_page, overflows, wrap  # noqa: E402
from officemine.rendering.pages import page_figures  # noqa: E402


def test_english_breaks_between_words_and_chinese_between_characters():
    assert wrap("median wait (working hours)", 12).split("\n") == ["median wait", "(working",
                                                                   "hours)"]
    assert wrap("不作必要性判断（不审批）", 10).split("\n") == ["不作必要性", "判断（不审", "批）"]
    assert wrap("abcdefghij", 4).split("\n") == ["abcd", "efgh", "ij"]    # too long: cut
    assert wrap("财务初审 waiting", 8).split("\n") == ["财务初审", "waiting"]


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
    scenario, two redesigns, the ledger's month, pseudonyms)."""
    review, config = sample_reviews.reviews[lang], sample_reviews.config
    found, titles = {}, []
    with chart_style():
        for number, fig in enumerate(page_figures(review), start=1):
            titles.append(fig.texts[0].get_text())
            if problems := overflows(fig):
                found[number] = problems
            plt.close(fig)
    assert len(titles) >= 13 and not found, found
    # each before/after page is of its own redesign
    before_after = [t for t in titles if "改革前后" in t or "Before and after" in t]
    assert len(before_after) == len(config.redesigns)
    for redesign, title in zip(config.redesigns, before_after):
        assert redesign.name in title, (redesign.name, title)
