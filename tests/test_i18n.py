"""The message catalogue: every marked English message has its Thai, and the language switch works."""

import re

import pytest
from babel.messages.pofile import read_po

from analysis import i18n
from analysis.i18n import _, ngettext, pgettext, use_language
from analysis.narrative import markdown_text

PLACEHOLDER = re.compile(r"\{[a-z_][a-z0-9_]*(?:[:!][^{}]*)?\}")


def _catalogue():
    with i18n.catalogue_path("th").open("rb") as po:
        return read_po(po, locale="th", domain=i18n.DOMAIN)


def test_every_message_of_the_code_has_its_thai_translation():
    catalogue = _catalogue()
    missing = []
    for (context, msgid), message in i18n.extract_messages().items():
        entry = catalogue.get(msgid, context=context)
        strings = (
            (entry.string if isinstance(entry.string, tuple) else (entry.string,)) if entry else ()
        )
        if entry is None or entry.fuzzy or not all(strings):
            missing.append(f"{message.where[0]}: {msgid[:60]!r}")
        elif message.plural and not isinstance(entry.id, tuple):
            missing.append(f"{message.where[0]}: {msgid[:60]!r} needs msgid_plural in the .po")
    assert not missing, (
        f"{len(missing)} message(s) without Thai (python -m analysis.i18n missing):\n"
        + "\n".join(missing)
    )


def test_catalogue_has_no_entry_the_code_no_longer_uses():
    used = set(i18n.extract_messages())
    stale = [
        entry.id
        for entry in _catalogue()
        if entry.id and (entry.context, _key(entry.id)) not in used
    ]
    assert not stale, f"entries no code marks (delete them): {stale}"


def _key(msgid):
    return msgid[0] if isinstance(msgid, tuple) else msgid


def test_thai_keeps_every_placeholder():
    wrong = []
    for entry in _catalogue():
        if not entry.id:
            continue
        ids = entry.id if isinstance(entry.id, tuple) else (entry.id,)
        strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
        expected = set(PLACEHOLDER.findall(ids[0]))
        for text in strings:
            if set(PLACEHOLDER.findall(text)) != expected:
                wrong.append(ids[0][:60])
    assert not wrong, f"placeholders differ between English and Thai: {wrong}"


def test_language_switch_and_fallback():
    assert _("{value} days") == "{value} days"
    with use_language("th"):
        assert _("{value} days") == "{value} วัน"
        assert ngettext("{n} point", "{n} points", 2) == "{n} คะแนน"
        assert pgettext("compact money", "{amount}M") == "{amount} ล้าน"
        assert _("A sentence nobody translated") == "A sentence nobody translated"
    assert ngettext("{n} point", "{n} points", 1) == "{n} point"
    assert ngettext("{n} point", "{n} points", 1.5) == "{n} points"
    with pytest.raises(ValueError, match="unknown report language"):
        i18n.set_language("fr")


def test_markdown_text_escapes_fields_not_the_message():
    text = markdown_text("**{name}** has {value} days", name="<b>*Shop*</b>", value="4.5")
    assert text.startswith("**") and "<b>" not in text and r"\*Shop\*" in text
