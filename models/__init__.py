"""The shipped model (installed as the package data ``invitecls._models``)."""
