"""Resolution layer: which place each recognised mention means.

`resolver` resolves an article's mentions together, with the candidates'
`features` and what the rest of the article points at (`context`);
`geocoder` offers the gazetteer as a geopy geocoder; `online` is the opt-in
fallback to an online geocoder.
"""
