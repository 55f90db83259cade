"""Phones: identification, vendor modules, the vendor-neutral config and its rendering."""
