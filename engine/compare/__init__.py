"""Comparisons: one sheet's rows run on several workflows (each on its own lane and limits),
then set side by side: which rows differ, and how each workflow did."""
