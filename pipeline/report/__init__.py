"""The cross-config report (SPEC section 12): the HTML page, its figures and the plot tables.

``load`` reads the stages' outputs, ``figures`` draws (matplotlib, Agg), ``plots`` makes the rows of the
``dvc plots`` tables, ``page`` writes the HTML and ``write`` puts figures and tables into their folders.
The entry point is ``pipeline/stages/report.py``.
"""
