"""One module per schema revision, applied in order by `mapapp.postgis_store.upgrade`."""
