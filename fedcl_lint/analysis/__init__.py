"""Analysis: the code under analysis in, the protocol out, never executing it. Discover the files,
load them (read, prefilter, extract each file's facts in workers, from an authenticated cache),
link sends and handlers across modules, and build the message type -> mechanism table and the
typed protocol model."""
