"""Services and categories."""

from app.storage import now


def ensure_service(db, code, name=None, email=None):
    """Return the id of the service ``code``, creating it (named ``name`` or ``code``)."""
    row = db.execute("SELECT id FROM services WHERE code = ?", [code]).fetchone()
    if row:
        return row[0]
    return db["services"].insert(
        {"code": code, "name": name or code, "email": email, "created_at": now()}
    ).last_pk


def ensure_category(db, code, name=None):
    """Return the id of the category ``code``, creating it (named ``name`` or ``code``)."""
    row = db.execute("SELECT id FROM categories WHERE code = ?", [code]).fetchone()
    if row:
        return row[0]
    return db["categories"].insert(
        {"code": code, "name": name or code.replace("-", " ").capitalize(), "created_at": now()}
    ).last_pk


def category_by_code(db, code):
    rows = list(db.query("SELECT id, code, name, retired FROM categories WHERE code = ?",
                         [code]))
    return rows[0] if rows else None


def offered_category(db, code):
    """The category ``code`` if residents may still choose it (not retired), else None."""
    category = category_by_code(db, code)
    return category if category and category["retired"] == 0 else None


def categories_by_code(db, codes):
    """Categories among ``codes`` that exist and are offered (not retired), in name order."""
    codes = list(codes)
    marks = ",".join("?" * len(codes))
    sql = (f"SELECT id, code, name FROM categories WHERE code IN ({marks}) AND retired = 0 "
           "ORDER BY name")
    return list(db.query(sql, codes))


def all_categories(db):
    """Every category, retired ones included (old reports keep theirs: filters, console)."""
    return list(db.query("SELECT id, code, name, description FROM categories ORDER BY name"))


def offered_categories(db):
    """The categories residents may choose: those not retired."""
    return list(db.query("SELECT id, code, name, description FROM categories "
                         "WHERE retired = 0 ORDER BY name"))


def category_groups(db):
    """For each category, the names of the services handling it somewhere (comma separated)."""
    return dict(db.execute("""
        SELECT c.code, group_concat(DISTINCT s.name)
        FROM categories c
        JOIN service_area_categories ac ON ac.category_id = c.id
        JOIN service_areas a ON a.id = ac.area_id AND a.retired_version_id IS NULL
        JOIN services s ON s.id = a.service_id
        GROUP BY c.code
    """))


def set_service_target(db, code, target_days):
    db.execute("UPDATE services SET target_days = ? WHERE code = ?", [target_days, code])


def all_services(db):
    return list(db.query(
        "SELECT id, code, name, email, webhook_url FROM services ORDER BY name"))


def services_by_code(db):
    return {row["code"]: row for row in db.query(
        "SELECT id, code, name, email, webhook_url FROM services")}


def translated_names(db, locale):
    """{(kind, code): name} of the categories and services translated into ``locale``."""
    return {(row["kind"], row["code"]): row["name"] for row in db.query(
        "SELECT kind, code, name FROM name_translations WHERE locale = ?", [locale])}


def set_translated_name(db, kind, code, locale, name):
    table = {"category": "categories", "service": "services"}[kind]
    if db.execute(f"SELECT 1 FROM {table} WHERE code = ?", [code]).fetchone() is None:
        return False
    db["name_translations"].upsert(
        {"kind": kind, "code": code, "locale": locale, "name": name},
        pk=("kind", "code", "locale"))
    return True


def set_service_delivery(db, code, email, webhook_url):
    """Set where a service's reports go; return False when there is no such service."""
    return db.execute("UPDATE services SET email = ?, webhook_url = ? WHERE code = ?",
                      [email, webhook_url, code]).rowcount == 1
