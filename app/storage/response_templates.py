"""Response templates: canned public notes per service, optionally per category and status,
in one interface language each."""

from app.storage import now

COLUMNS = """
    rt.id, rt.service_id, s.code AS service_code, s.name AS service, rt.category_id,
    c.code AS category_code, c.name AS category, rt.status, rt.locale, rt.title, rt.text
"""
FROM = """
    FROM response_templates rt
    JOIN services s ON s.id = rt.service_id
    LEFT JOIN categories c ON c.id = rt.category_id
"""


def add_template(db, service_id, category_id, status, locale, title, text):
    return db["response_templates"].insert({
        "service_id": service_id, "category_id": category_id, "status": status,
        "locale": locale, "title": title, "text": text, "updated_at": now(),
    }).last_pk


def update_template(db, template_id, service_id, category_id, status, locale, title, text):
    return db.execute("""
        UPDATE response_templates SET service_id = ?, category_id = ?, status = ?, locale = ?,
               title = ?, text = ?, updated_at = ? WHERE id = ?
    """, [service_id, category_id, status, locale, title, text, now(),
          template_id]).rowcount == 1


def remove_template(db, template_id):
    return db.execute("DELETE FROM response_templates WHERE id = ?",
                      [template_id]).rowcount == 1


def template(db, template_id):
    rows = list(db.query(f"SELECT {COLUMNS} {FROM} WHERE rt.id = ?", [template_id]))
    return rows[0] if rows else None


def templates_of(db, service_ids):
    """Every template of these services (all when None), by service, language and title."""
    sql, params = f"SELECT {COLUMNS} {FROM}", []
    if service_ids is not None:
        sql += f" WHERE rt.service_id IN ({','.join('?' * len(service_ids)) or 'NULL'})"
        params = list(service_ids)
    return list(db.query(sql + " ORDER BY s.name, rt.locale, rt.title, rt.id", params))


def templates_for(db, service_id, category_id, locale):
    """The templates that fit a report of this service and category, in ``locale``: the
    category's own first, then the service's general ones."""
    return list(db.query(f"""
        SELECT {COLUMNS} {FROM}
        WHERE rt.service_id = ? AND rt.locale = ?
          AND (rt.category_id IS NULL OR rt.category_id = ?)
        ORDER BY rt.category_id IS NULL, rt.title, rt.id
    """, [service_id, locale, category_id]))
