"""Intermediate then target fine-tuning (issue #4). Not implemented yet."""
import sys


def main() -> None:
    sys.exit("train.py: not implemented yet (issue #4 has not landed)")


if __name__ == "__main__":
    main()
