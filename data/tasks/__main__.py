"""`python -m data.tasks [--layout]`: see data/tasks/__init__.py."""
from data.tasks import main

main()
