# Sourced by scripts/run, scripts/test and scripts/lock: make .venv with Python >= 3.11 and
# install the pinned dependencies into it.
# Usage: ensure_venv EXTRAS   (EXTRAS: "" -> requirements.lock, "[dev]" -> requirements-dev.lock)

make_venv() {
    local python="${PYTHON:-}"
    if [ -x .venv/bin/python ]; then
        return
    fi
    if [ -z "$python" ]; then
        for candidate in python3.13 python3.12 python3.11 python3; do
            if command -v "$candidate" >/dev/null 2>&1 &&
                "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
                python="$candidate"
                break
            fi
        done
    fi
    if [ -z "$python" ]; then
        echo "monitor needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
        exit 1
    fi
    echo "monitor: creating .venv with $("$python" --version 2>&1)" >&2
    if ! "$python" -m venv .venv 2>/dev/null; then
        # Debian and Ubuntu ship venv separately.
        rm -rf .venv
        echo "monitor: installing python3-venv (Debian's venv module)" >&2
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
        elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
            sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null
        fi
        "$python" -m venv .venv
    fi
}

lock_file() {
    if [ "$1" = "[dev]" ]; then echo requirements-dev.lock; else echo requirements.lock; fi
}

# The inputs of an install, as one hash: pyproject.toml and the lock file (the stamp's content).
install_inputs() {
    .venv/bin/python -c 'import hashlib, sys
digest = hashlib.sha256()
for name in sys.argv[1:]:
    with open(name, "rb") as handle:
        digest.update(handle.read() + b"\0")
print(digest.hexdigest())' pyproject.toml "$(lock_file "$1")"
}

# True when .venv holds what pyproject.toml and the lock file ask for (installed from them).
venv_current() {
    local stamp=".venv/.installed$1"
    [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$(install_inputs "$1")" ]
}

ensure_venv() {
    local extras="$1" lock
    lock="$(lock_file "$extras")"
    make_venv
    # Skip pip when nothing changed since the last install (pyproject.toml and the lock are the
    # inputs; their content counts, not their dates).
    if venv_current "$extras"; then
        return
    fi
    local count
    count="$(grep -c '==' "$lock")"
    echo "monitor: installing $count pinned packages from $lock into .venv (the first time" \
        "takes a minute or two; pip names each package)" >&2
    .venv/bin/python -m pip install --disable-pip-version-check -r "$lock"
    echo "monitor: installing monitor itself (editable: src/ is used as it is)" >&2
    .venv/bin/python -m pip install --disable-pip-version-check -e ".$extras"
    install_inputs "$extras" >".venv/.installed$extras"
    echo "monitor: .venv is ready" >&2
}
