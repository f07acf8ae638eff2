"""Package data of invitecls: templates, look-alike table, word lists."""
