"""Installing: version directories, lock, staging, compression, prune."""
