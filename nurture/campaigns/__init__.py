"""Campaign files: the spec (schema), the loader and validator, and bundled examples."""
