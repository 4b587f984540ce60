"""axe-core (from the axe-playwright-python package) run on a Playwright page.

Use ``assert_accessible(page)`` after the page shows what is to be checked: it runs the
WCAG 2.0/2.1 A and AA rules and fails with one line per violation (rule, help, the first
elements it names), so a test says what is wrong and where.
"""

from axe_playwright_python.sync_playwright import Axe

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
_axe = Axe()


def violations(page, tags=WCAG_TAGS):
    """axe's violations on the page as it is now: a list of axe's result dicts."""
    options = {"runOnly": {"type": "tag", "values": list(tags)},
               "resultTypes": ["violations"]}
    return _axe.run(page, options=options).response["violations"]


def describe(found):
    """One readable line per violation, with up to three of the elements it names."""
    lines = []
    for violation in found:
        targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} "
                     f"at {targets}")
    return "\n".join(lines)


def assert_accessible(page, tags=WCAG_TAGS):
    """Fail with axe's findings when the page has any violation of ``tags``."""
    found = violations(page, tags)
    assert not found, f"axe-core on {page.url}:\n{describe(found)}"
