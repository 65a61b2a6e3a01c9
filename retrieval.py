"""BUCC and Tatoeba retrieval with FAISS (issue #5). Not implemented yet."""
import sys


def main() -> None:
    sys.exit("retrieval.py: not implemented yet (issue #5 has not landed)")


if __name__ == "__main__":
    main()
