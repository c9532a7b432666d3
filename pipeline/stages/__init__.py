"""One thin entry point per DVC stage: parse paths from argv, load params, call the library, write."""
