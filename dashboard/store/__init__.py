"""The DuckDB file: its tables, copy-on-write writes, and the named queries read from it."""
