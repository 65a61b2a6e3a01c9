"""Tasks of the study: readers of the published files, featurization by kind, official metrics."""
