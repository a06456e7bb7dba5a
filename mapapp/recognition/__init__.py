"""Recognition layer: the place names of a text, and the offline gazetteer they are looked up in.

`gazetteer` is the index of names (`gazetteer_sources` fills it from the data
packages, `gazetteer_cache` keeps it pickled); `toponyms` finds the mentions;
`corrections` holds a desk's editorial aliases, denials and pins.
"""
