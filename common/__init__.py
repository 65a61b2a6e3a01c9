"""Plumbing that knows nothing of the study: atomic writes (`common.io`), downloading and safe unpacking
(`common.fetch`). Every other package may import it; it imports none of them."""
