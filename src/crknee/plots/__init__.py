"""Figures of the paper (1-10), one module per figure family, sharing :mod:`crknee.plots.style`."""
