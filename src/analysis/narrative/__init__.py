"""Words about numbers: sentences, card and table text, per report section.

Metric modules return numbers; the modules here turn them into what a reader
sees (findings, executive-summary cards, lists and table text).
"""
