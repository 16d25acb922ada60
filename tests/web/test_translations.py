"""Every string a person can see is translatable, and every one has its Vietnamese translation."""

import subprocess
import sys

from babel.messages.pofile import read_po

from core.settings import PROJECT_ROOT

PO_FILE = PROJECT_ROOT / "web" / "translations" / "vi" / "LC_MESSAGES" / "messages.po"


def test_every_ui_string_has_a_vietnamese_translation(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l",
                    "-o", str(pot), "--no-location", "."], cwd=PROJECT_ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        wanted = {m.id for m in read_po(handle) if m.id}
    with PO_FILE.open("rb") as handle:
        translated = {m.id for m in read_po(handle) if m.id and m.string and "fuzzy" not in m.flags}
    missing = sorted(wanted - translated)
    assert not missing, f"untranslated into Vietnamese: {missing}"
