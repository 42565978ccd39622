"""Reading an export: what a file says about itself, reading it safely and strictly (or fast,
when it is clean), and checking every rule of the data contract."""
