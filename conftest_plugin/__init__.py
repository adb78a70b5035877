"""The mockkms pytest plugin package (registered through the ``pytest11`` entry point)."""
