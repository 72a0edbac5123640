# Sourced by scripts/run and scripts/test: make .venv with Python >= 3.11 and install into it.
# Usage: ensure_venv EXTRAS   (EXTRAS: "" or "[dev]")
ensure_venv() {
    local extras="$1" python="${PYTHON:-}"
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
    if [ ! -x .venv/bin/python ]; then
        if ! "$python" -m venv .venv 2>/dev/null; then
            # Debian and Ubuntu ship venv separately.
            rm -rf .venv
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
            elif command -v sudo >/dev/null && command -v apt-get >/dev/null; then
                sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv >/dev/null
            fi
            "$python" -m venv .venv
        fi
    fi
    # Skip pip when nothing changed since the last install (pyproject.toml is the input).
    local stamp=".venv/.installed$extras"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
        .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
        .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".$extras"
        touch "$stamp"
    fi
}
