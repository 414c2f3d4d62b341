"""Load benchmark of the site against a bare-Django floor, run by `make bench`."""
