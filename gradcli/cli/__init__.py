"""The command-line interface (typer): commands, rendering, JSON, batch."""
