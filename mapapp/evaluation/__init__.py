"""Scores a geoparser against gold-standard corpora (recognition and resolution).

Metric code is pure: it compares gold articles with predictions the caller
computed.  Running a system is a separate, thin step (``running.run_system``) so
that a geoparser can process whole batches of articles at once.  The system
under test only ever sees an article's text and, in the gold-spans setting, the
gold ``(start, end)`` spans; names, ids and types stay on this side.

``corpus`` reads gold corpora, ``running`` feeds them to a system, ``metrics``
matches and scores predictions, ``calibration`` bins scores against accuracy,
``reports`` gathers one corpus's scores and ``formatting`` prints them.
"""
