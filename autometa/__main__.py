"""`python -m autometa` runs the command line interface."""

from autometa.cli import main

main()
