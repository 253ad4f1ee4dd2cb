"""Closed choices several modules share, defined once (each module's own choices — a basis,
an engine, a source format — live beside the function that takes them).

A value outside a choice raises `officemine.base.errors.ChoiceError`, which lists the allowed ones:

>>> from officemine.base.errors import ChoiceError
>>> ChoiceError.check("lang", "en", LANGS)
'en'
"""

from __future__ import annotations

from typing import Literal, get_args

#: The language of labels, charts and deliverables: Chinese or English.
Lang = Literal["zh", "en"]
LANGS: tuple[str, ...] = get_args(Lang)
