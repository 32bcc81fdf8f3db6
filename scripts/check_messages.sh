#!/usr/bin/env bash
# Proves that the committed message catalogs (user_tasks/locale) are in sync with the code:
#  (a) every message the code marks for translation is in each catalog, no catalog keeps a
#      message the code no longer has, and every catalog but the English source one is fully
#      translated (no empty, no fuzzy entry) with placeholders that msgfmt accepts;
#  (b) each committed .mo file holds what msgfmt compiles from the .po file beside it.
# The code's messages are extracted by Django's makemessages in a temporary copy of the
# package: the working tree is never touched. Needs Django (.venv, see `make venv`) and GNU
# gettext, which is installed from Debian's `gettext` package if missing.
set -euo pipefail

cd "$(dirname "$0")/.."

# The options the catalogs are made with; docs/translations.rst gives the same command.
MAKEMESSAGES_OPTIONS=(--no-obsolete --add-location=file)
SOURCE_LANGUAGE=en

missing_tools=()
for tool in msgfmt msgunfmt msgattrib msgmerge xgettext; do
    command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
done
if ((${#missing_tools[@]})); then
    echo "GNU gettext is missing (${missing_tools[*]}): installing the Debian package gettext"
    SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
    $SUDO apt-get update
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y gettext
fi

PYTHON=${PYTHON:-.venv/bin/python}
[ -x "$PYTHON" ] || PYTHON=python3
if ! "$PYTHON" -c 'import django' >/dev/null 2>&1; then
    echo "Django is not importable by $PYTHON: run \`make venv\` first (or set PYTHON)." >&2
    exit 2
fi
PYTHON=$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")

locales=()
for catalog in user_tasks/locale/*/LC_MESSAGES/django.po; do
    [ -e "$catalog" ] || break
    locales+=("$(basename "$(dirname "$(dirname "$catalog")")")")
done
if ((${#locales[@]} == 0)); then
    echo "No catalog found in user_tasks/locale/*/LC_MESSAGES/django.po." >&2
    exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What the code marks today: makemessages run on a copy, keeping the template (django.pot).
cp -R user_tasks "$work/user_tasks"
language_options=()
for locale in "${locales[@]}"; do language_options+=(-l "$locale"); done
(
    cd "$work/user_tasks"
    env -u DJANGO_SETTINGS_MODULE "$PYTHON" -m django makemessages "${language_options[@]}" \
        "${MAKEMESSAGES_OPTIONS[@]}" --keep-pot --verbosity 0
)
code="$work/user_tasks/locale/django.pot"

problems=0
fail() {
    echo "FAIL: $*" >&2
    problems=$((problems + 1))
}

# Lists the entries of a catalog (header left out) that msgattrib selects with "$@".
entries() {
    local catalog=$1
    shift
    msgattrib "$@" --no-wrap --no-location "$catalog" | awk '
        /^msgctxt / { context = substr($0, 9) " " }
        /^msgid / { if ($0 != "msgid \"\"") print "    " context substr($0, 7); context = "" }
    '
}

entries "$code" | LC_ALL=C sort >"$work/code.ids"

for locale in "${locales[@]}"; do
    catalog="user_tasks/locale/$locale/LC_MESSAGES/django.po"
    compiled="user_tasks/locale/$locale/LC_MESSAGES/django.mo"

    # (a) The same messages as the code, both ways, whether translated or not (that is checked next:
    # the entries of the source catalog are empty on purpose).
    entries "$catalog" | LC_ALL=C sort >"$work/catalog.ids"
    missing=$(LC_ALL=C comm -23 "$work/code.ids" "$work/catalog.ids")
    unused=$(LC_ALL=C comm -13 "$work/code.ids" "$work/catalog.ids")
    [ -z "$missing" ] || fail "$catalog lacks messages that the code marks for translation:"$'\n'"$missing"
    [ -z "$unused" ] || fail "$catalog has messages that the code no longer marks:"$'\n'"$unused"
    if [ "$locale" != "$SOURCE_LANGUAGE" ]; then
        untranslated=$(entries "$catalog" --untranslated)
        # A plural entry with one form translated and another left empty counts as translated for gettext.
        partial=$(awk '/^msgstr\[[0-9]+\] ""$/ { getline next_line; if (next_line !~ /^"/) print "    line " NR }' "$catalog")
        fuzzy=$(entries "$catalog" --only-fuzzy)
        [ -z "$untranslated" ] || fail "$catalog has untranslated messages:"$'\n'"$untranslated"
        [ -z "$partial" ] || fail "$catalog has plural messages with an empty form, at:"$'\n'"$partial"
        [ -z "$fuzzy" ] || fail "$catalog has fuzzy messages (check the translation, then remove '#, fuzzy'):"$'\n'"$fuzzy"
    fi

    # (b) The committed .mo is what msgfmt compiles from the committed .po (as compilemessages runs it).
    if ! msgfmt --check -o "$work/$locale.mo" "$catalog" 2>"$work/msgfmt.log"; then
        fail "msgfmt refuses $catalog:"
        sed 's/^/    /' "$work/msgfmt.log" >&2
    elif [ ! -f "$compiled" ]; then
        fail "$compiled is missing: compile the catalogs (compilemessages) and commit the .mo files."
    elif ! cmp -s "$work/$locale.mo" "$compiled"; then
        # Another gettext version may lay out the same messages differently: compare what they hold.
        msgunfmt "$work/$locale.mo" >"$work/expected.po"
        if ! msgunfmt "$compiled" >"$work/committed.po" 2>&1 || ! cmp -s "$work/expected.po" "$work/committed.po"; then
            fail "$compiled is out of date with $catalog: run compilemessages and commit the .mo file."
            diff -u "$work/committed.po" "$work/expected.po" | sed 's/^/    /' | head -40 >&2 || true
        fi
    fi
    if [ "$locale" != "$SOURCE_LANGUAGE" ]; then
        msgfmt --statistics -o /dev/null "$catalog" 2>&1 | sed "s|^|$locale: |" || true
    fi
done

if ((problems)); then
    echo >&2
    echo "The message catalogs are out of sync with the code ($problems problem(s)). To fix them, from user_tasks/:" >&2
    echo "    ../.venv/bin/django-admin makemessages ${language_options[*]} ${MAKEMESSAGES_OPTIONS[*]}" >&2
    echo "    (translate the new or fuzzy entries of each non-English catalog)" >&2
    echo "    ../.venv/bin/django-admin compilemessages" >&2
    exit 1
fi
echo "Message catalogs in sync with the code: ${locales[*]}."
