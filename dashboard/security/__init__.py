"""Who may see what, who may sign in, and the record of what they did: access (the role ->
capability table and query scoping, applied to every query), data_access (the app's reads,
through access, cached on what the viewer may see, person-level views logged), accounts
(users, passwords, lock-out), audit (the hash-chained access log and its declared actions),
sign_in (the app's sessions); users and the log are kept in one SQLite file (security_file)
beside the data.

Nothing is imported here: the command line loads only the modules it uses, and sign_in needs
Streamlit."""
