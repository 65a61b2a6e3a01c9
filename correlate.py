"""Per-language drop against linguistic distance (issue #6). Not implemented yet."""
import sys


def main() -> None:
    sys.exit("correlate.py: not implemented yet (issue #6 has not landed)")


if __name__ == "__main__":
    main()
