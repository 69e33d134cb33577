"""laotie's version, in one place: the package, the results' metadata and the build read it."""

__version__ = "0.1.0.dev0"
