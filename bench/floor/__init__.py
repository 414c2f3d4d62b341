"""The bare-Django floor: the least any Django view can cost on this machine and database."""
