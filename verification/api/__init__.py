"""The JSON API: the pages' send and check, on the same rules, for mobile apps and single-page front ends."""
