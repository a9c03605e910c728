"""Generated protobuf modules; regenerate with Tools/clients/python/generate.sh."""
