#!/usr/bin/env bash
# Prints the path of a working python<VERSION> (default 3.13, Lambda's runtime), or nothing.
# Looks on PATH first, then among pyenv's installed versions: a pyenv shim for a version that is installed
# but not selected exists on PATH and fails when run ("command exists in these Python versions"), so every
# candidate is run, and the interpreter's own sys.executable is printed (never a shim).
set -u
version="${1:-3.13}"
works() { "$1" -c "import sys; assert '%d.%d' % sys.version_info[:2] == '$version'; print(sys.executable)" 2>/dev/null; }
candidates=()
command -v "python$version" >/dev/null 2>&1 && candidates+=("$(command -v "python$version")")
root="$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")"
for found in $(ls -d "$root"/versions/"$version"*/bin/"python$version" 2>/dev/null | sort -rV); do
  candidates+=("$found")
done
for candidate in "${candidates[@]+"${candidates[@]}"}"; do
  if works "$candidate"; then exit 0; fi
done
exit 1
