"""Pure spatial library: coordinates, boundary files and routing by spatial join.

Nothing here imports Flask, sqlite-utils or folium, so the same code serves the web app,
the CLI, the benchmarks and any other engine we add later.
"""
