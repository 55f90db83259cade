"""Customer router configurations for voice, per vendor, and their zero-touch delivery.

``context.py`` turns a tenant's router entry into plain values (pure), ``render.py`` fills the
vendor's template in ``templates/routers/<vendor>/`` through a writer that refuses any value
that would break out of its line, ``vendors.py`` holds what differs per vendor (data only),
``zerotouch.py`` answers the routers' own fetches (``refusals.py`` puts refused ones on their
timelines), ``reports.py`` takes their reports after applying and holds polling until then,
and ``bootstrap.py`` gives the commands that make a router fetch by itself.
"""
