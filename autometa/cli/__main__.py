"""`python -m autometa.cli` runs the command line interface."""

from autometa.cli import main

main()
