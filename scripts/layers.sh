#!/bin/sh
# make layers: each source file's "May not:" lines are checked against
# what the file includes and calls.
#
# In a file's opening comment, one or more lines of the form
#
#     * May not: include rtp.h, include <sys/socket.h>, call rooms_store_
#
# name what the file must never depend on.  "include X" fails when the
# file has #include "X" or #include <X>; "call P" fails when a call to a
# function whose name starts with P appears outside comments and strings.
# A file with no "May not:" line is not checked; every file in the lists
# below must have one, so the contracts cannot silently disappear.
#
# Exit 0 when every rule holds, 1 with one line per breach otherwise.
set -eu
cd "$(dirname "$0")/.."

status=0

# files whose contracts are checked (sources of the module and the worker)
files=$(ls ngx_rooms_module/*.c ngx_rooms_module/*.h worker/*.c worker/*.h \
           common/*.c common/*.h 2>/dev/null)

for f in $files; do
    rules=$(sed -n 's/^[ /]*\* *May not: *//p' "$f" | tr ',' '\n' \
            | sed 's/^ *//; s/ *$//; s/\.$//' | grep -v '^$' || true)

    if [ -z "$rules" ]; then
        echo "layers: $f: no \"May not:\" line in its opening comment"
        status=1
        continue
    fi

    # the code without comments and string literals, for "call" rules
    code=$(perl -0777 -pe '
        s{/\*.*?\*/}{ }gs;
        s{//[^\n]*}{}g;
        s{"(?:\\.|[^"\\\n])*"}{""}g;
    ' "$f")

    echo "$rules" | while IFS= read -r rule; do
        kind=${rule%% *}
        what=${rule#* }
        case $kind in
        include)
            name=$(printf '%s' "$what" | tr -d '<>"')
            if grep -Eq "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]([^>\"]*/)?$name[>\"]" "$f"
            then
                echo "layers: $f includes $what, which its contract forbids"
                exit 1
            fi
            ;;
        call)
            if printf '%s\n' "$code" | grep -Eq "(^|[^A-Za-z0-9_])$what[A-Za-z0-9_]*[[:space:]]*\("
            then
                hit=$(printf '%s\n' "$code" \
                      | grep -Eo "(^|[^A-Za-z0-9_])$what[A-Za-z0-9_]*[[:space:]]*\(" \
                      | head -1 | tr -d '( ')
                echo "layers: $f calls $hit, which its contract forbids ($rule)"
                exit 1
            fi
            ;;
        *)
            echo "layers: $f: cannot read the rule \"$rule\""
            exit 1
            ;;
        esac
    done || status=1
done

[ $status = 0 ] && echo "layers: $(echo "$files" | wc -w) files keep their contracts"
exit $status
