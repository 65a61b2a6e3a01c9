"""Zero-shot evaluation on every language of a task (issue #5). Not implemented yet."""
import sys


def main() -> None:
    sys.exit("evaluate.py: not implemented yet (issue #5 has not landed)")


if __name__ == "__main__":
    main()
