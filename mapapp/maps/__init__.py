"""The maps: what a map URL shows and the HTML and data that draw it, without Flask.

view      MapView and the mentions it shows (filter_mentions, map.js's twin)
query     a map URL's query read into a MapView (QueryError for a bad one)
export    the filtered view as a geojson, csv or gpkg file (web and CLI alike)
elements  the folium elements, safe templates and the main map (render_map)
points    the points payload the main map loads, and the evidence for its popups
story     a story page's marked-up text, its places and their small map
outlines  country outlines for the offline basemap (cut at the antimeridian)
"""
