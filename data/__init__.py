"""The labeled corpus (installed as the package data ``invitecls._corpus``)."""
