"""Events, not just mentions: what happened, where and when (issue 15).

``taxonomy`` holds the fixed event types and the trigger lexicon, ``triggers``
finds the words that report events in a parse, ``counts``, ``dates`` and
``places`` read each event's casualties, date and places, ``extract`` puts them
together per story and ``requests`` answers the ``mapapp events`` lines.
"""
