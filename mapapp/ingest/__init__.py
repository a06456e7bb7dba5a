"""Ingest: article files geoparsed into a store.

`pipeline` is the entry (`pipeline.ingest`, `pipeline.reprocess`, their
`IngestSummary`); `engines` is where the geoparsing runs (this process, worker
processes, or a Dask cluster) and how each batch is written.
"""
