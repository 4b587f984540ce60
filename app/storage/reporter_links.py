"""The reports a resident sent with one e-mail address, with their private tokens."""


def reports_sent_from(db, email, limit):
    """The newest reports whose reporter gave this address (any case), newest first."""
    return list(db.query(
        "SELECT r.id, r.token, r.created_at, c.code AS category_code, c.name AS category "
        "FROM reports r JOIN categories c ON c.id = r.category_id "
        "WHERE r.reporter_email = ? COLLATE NOCASE ORDER BY r.id DESC LIMIT ?",
        [email, limit]))
