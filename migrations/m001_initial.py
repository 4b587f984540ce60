"""Services, categories, versioned service areas, reports, photos and report events."""

STATEMENTS = [
    """CREATE TABLE services (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        email TEXT,
        webhook_url TEXT,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE categories (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL,
        created_at TEXT NOT NULL
    )""",
    """CREATE TABLE boundary_versions (
        id INTEGER PRIMARY KEY,
        layer TEXT NOT NULL,
        source TEXT NOT NULL,
        loaded_at TEXT NOT NULL,
        feature_count INTEGER NOT NULL,
        report TEXT NOT NULL
    )""",
    """CREATE TABLE service_areas (
        id INTEGER PRIMARY KEY,
        service_id INTEGER NOT NULL REFERENCES services(id),
        version_id INTEGER NOT NULL REFERENCES boundary_versions(id),
        retired_version_id INTEGER REFERENCES boundary_versions(id),
        layer TEXT NOT NULL,
        name TEXT NOT NULL,
        priority INTEGER NOT NULL DEFAULT 0,
        size_m2 REAL NOT NULL,
        min_lon REAL NOT NULL,
        min_lat REAL NOT NULL,
        max_lon REAL NOT NULL,
        max_lat REAL NOT NULL,
        geometry BLOB NOT NULL,
        properties TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX service_areas_active ON service_areas(retired_version_id, layer)",
    """CREATE TABLE service_area_categories (
        area_id INTEGER NOT NULL REFERENCES service_areas(id),
        category_id INTEGER NOT NULL REFERENCES categories(id),
        PRIMARY KEY (area_id, category_id)
    )""",
    """CREATE TABLE reports (
        id INTEGER PRIMARY KEY,
        category_id INTEGER NOT NULL REFERENCES categories(id),
        service_id INTEGER NOT NULL REFERENCES services(id),
        area_id INTEGER NOT NULL REFERENCES service_areas(id),
        boundary_version_id INTEGER NOT NULL REFERENCES boundary_versions(id),
        lon REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
        lat REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
        description TEXT NOT NULL,
        status TEXT NOT NULL DEFAULT 'new',
        reporter_name TEXT,
        reporter_email TEXT,
        show_name INTEGER NOT NULL DEFAULT 0,
        source TEXT NOT NULL DEFAULT 'web',
        external_id TEXT UNIQUE,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    )""",
    "CREATE INDEX reports_created ON reports(created_at)",
    "CREATE INDEX reports_service_status ON reports(service_id, status)",
    """CREATE TABLE photos (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        position INTEGER NOT NULL,
        display_name TEXT NOT NULL,
        thumb_name TEXT NOT NULL,
        width INTEGER NOT NULL,
        height INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        UNIQUE (report_id, position)
    )""",
    "CREATE INDEX photos_display ON photos(display_name)",
    "CREATE INDEX photos_thumb ON photos(thumb_name)",
    """CREATE TABLE report_events (
        id INTEGER PRIMARY KEY,
        report_id INTEGER NOT NULL REFERENCES reports(id),
        kind TEXT NOT NULL,
        actor TEXT NOT NULL,
        at TEXT NOT NULL,
        from_status TEXT,
        to_status TEXT,
        public_note TEXT,
        internal_note TEXT,
        details TEXT NOT NULL DEFAULT '{}'
    )""",
    "CREATE INDEX report_events_report ON report_events(report_id, at)",
]


def upgrade(db):
    for statement in STATEMENTS:
        db.execute(statement)
