"""``python -m mockair [flags]`` is ``mockair serve [flags]``."""

from mockair.cli import main

main()
