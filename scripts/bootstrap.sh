#!/usr/bin/env bash
# Set everything up, then run the default study or the tests.
#
#   bash scripts/bootstrap.sh study   # virtual env + pinned deps + dataset, then `dvc repro`
#   bash scripts/bootstrap.sh pull    # the same set-up, then `dvc pull --allow-missing` and `dvc repro --pull`: a teammate's clone takes
#                                     # every output the team's DVC remote has, and runs only the rest
#   bash scripts/bootstrap.sh test    # the same set-up, then ruff, mypy and the test suite
#
# A second run installs nothing: the pip step is skipped while pyproject.toml is unchanged (and, for the
# tests, the dev extras are in), and the dataset step while its files are present. The study installs the
# project alone; the tests add its `dev` extras (pytest, ruff, mypy).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
VENV=.venv
PYTHON=${PYTHON:-python3}
say() { printf '[bootstrap] %s\n' "$*" >&2; }

setup_venv() {
    local extras=$1  # "" (the study) or "dev" (the tests)
    if [ ! -x "$VENV/bin/python" ]; then
        "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' \
            || { say "error: Python 3.11 is required ($PYTHON is $("$PYTHON" --version 2>&1))"; exit 1; }
        say "creating the virtual environment in $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp="$VENV/.installed-pyproject.sha256"
    local sha have
    sha=$(sha256sum pyproject.toml | cut -d' ' -f1)
    have=$(cat "$stamp" 2>/dev/null || true)  # "<sha of pyproject.toml> <extras installed>"
    if [ "$have" = "$sha dev" ] || [ "$have" = "$sha $extras" ]; then
        say "dependencies up to date (pyproject.toml unchanged)"
        return
    fi
    say "installing the pinned dependencies${extras:+ and the $extras extras} (a few minutes the first time)"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".${extras:+[$extras]}"
    echo "$sha $extras" > "$stamp"
}

# Fashion-MNIST, the default dataset: Debian's package where apt and root are available; otherwise the
# download stage tries torchvision's download, and says how to get the files if that fails too.
setup_dataset() {
    local debian=/usr/share/datasets/fashion-mnist
    if [ -f "$debian/t10k-labels-idx1-ubyte.gz" ]; then
        say "Fashion-MNIST present in $debian"
    elif command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
        say "installing Fashion-MNIST from Debian (dataset-fashion-mnist)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null
    else
        say "no apt/root: the download stage will fetch Fashion-MNIST with torchvision (needs the network)"
    fi
}

main() {
    local what=${1:-}
    case "$what" in
        study|pull|test) ;;
        *) say "usage: bash scripts/bootstrap.sh study|pull|test"; exit 2 ;;
    esac
    if [ "$what" = test ]; then setup_venv dev; else setup_venv ""; fi
    setup_dataset
    export PATH="$PWD/$VENV/bin:$PATH"
    if [ "$what" != test ]; then
        [ -d .git ] || { say "error: not a git checkout (DVC needs one): clone the repository"; exit 1; }
        if [ "$what" = pull ]; then
            say "restoring from the DVC remote '$(dvc config core.remote)', running only what it lacks"
            # One batch of every output dvc.lock names (6x faster than dvc repro --pull's stage by stage),
            # then dvc repro --pull restores the rest from the run-cache and runs what nobody pushed.
            dvc pull --allow-missing
            dvc repro --pull
        else
            dvc repro
        fi
    else
        say "lint (ruff), format check (ruff format), types (mypy), then the tests (pytest)"
        ruff check . && ruff format --check . && mypy && python -m pytest
    fi
}

main "$@"
