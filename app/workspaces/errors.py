from app.core.errors import Conflict


class LastOwner(Conflict):
    code = "last_owner"
    title = "A workspace needs at least one owner"
