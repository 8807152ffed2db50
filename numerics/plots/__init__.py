"""Figures (matplotlib, Agg backend): PNG and PDF with labelled axes."""
