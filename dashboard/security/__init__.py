"""Who may sign in, and the record of what they did: accounts (users, passwords, lock-out),
audit (the hash-chained access log and its declared actions), sign_in (the app's sessions),
all kept in one SQLite file (database) beside the data.

Nothing is imported here: the command line loads only the modules it uses, and sign_in needs
Streamlit."""
