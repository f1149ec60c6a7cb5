"""`python -m envctl`: see envctl/cli.py."""

from envctl.cli import app

app(prog_name="envctl")
