"""One module per schema revision, applied in order by `mapapp.stores.postgis.upgrade`."""
