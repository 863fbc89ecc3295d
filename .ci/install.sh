#!/bin/sh
# Installs a prebuilt rollout-sim from a release, verified against the release's
# SHA256SUMS (or a hash you pin with --sha256) before anything is installed.
#
#   curl -fsSL https://github.com/rollout-sim/rollout-sim/releases/latest/download/install.sh | sh
#   sh install.sh --version 0.1.0 --to ~/.local/bin
#
# Exit codes, as rollout-sim's own: 0 installed; 1 a checksum did not match (nothing
# installed); 2 bad usage, an unsupported platform, a download that failed, or a file in
# the way that is not a rollout-sim binary (nothing installed).
set -eu

repo_url=${ROLLOUT_SIM_REPO_URL:-https://github.com/rollout-sim/rollout-sim}
version=latest
to=${HOME:-}/.local/bin
from=
target=
sha256=
force=no

usage() {
    cat <<'EOF'
usage: install.sh [--version V] [--to DIR] [--target TRIPLE] [--sha256 HASH] [--from URL|DIR] [--force]

  --version V     the release to install (default: the latest)
  --to DIR        where the binary goes (default: ~/.local/bin)
  --target TRIPLE the build to install (default: this machine's; Linux gets the static
                  musl build, which runs on any distribution)
  --sha256 HASH   the archive's SHA-256, pinned (default: the release's SHA256SUMS)
  --from URL|DIR  where the release's files are (default: the GitHub release)
  --force         replace a file at DIR/rollout-sim that is not a rollout-sim binary
EOF
}

die() {
    code=$1
    shift
    echo "install.sh: $*" >&2
    exit "$code"
}

while [ $# -gt 0 ]; do
    case $1 in
        --version) [ $# -ge 2 ] || die 2 "--version needs a value"; version=${2#v}; shift 2 ;;
        --to) [ $# -ge 2 ] || die 2 "--to needs a value"; to=$2; shift 2 ;;
        --target) [ $# -ge 2 ] || die 2 "--target needs a value"; target=$2; shift 2 ;;
        --sha256) [ $# -ge 2 ] || die 2 "--sha256 needs a value"; sha256=$2; shift 2 ;;
        --from) [ $# -ge 2 ] || die 2 "--from needs a value"; from=$2; shift 2 ;;
        --force) force=yes; shift ;;
        -h | --help) usage; exit 0 ;;
        *) usage >&2; die 2 "unknown argument: $1" ;;
    esac
done
[ -n "$to" ] || die 2 "no --to folder and no HOME to default to"

# This machine's build. Linux gets the static musl binary: no glibc version to match.
if [ -z "$target" ]; then
    os=$(uname -s)
    arch=$(uname -m)
    case $arch in
        x86_64 | amd64) arch=x86_64 ;;
        aarch64 | arm64) arch=aarch64 ;;
        *) die 2 "no prebuilt binary for the processor $arch; build from source: cargo install --locked rollout-sim" ;;
    esac
    case $os in
        Linux) target=$arch-unknown-linux-musl ;;
        Darwin) target=$arch-apple-darwin ;;
        MINGW* | MSYS* | CYGWIN*) target=x86_64-pc-windows-msvc ;;
        *) die 2 "no prebuilt binary for $os; build from source: cargo install --locked rollout-sim" ;;
    esac
fi
case $target in
    *windows*) asset=rollout-sim-$target.zip; exe=rollout-sim.exe ;;
    *) asset=rollout-sim-$target.tar.gz; exe=rollout-sim ;;
esac

if [ -z "$from" ]; then
    if [ "$version" = latest ]; then
        from=$repo_url/releases/latest/download
    else
        from=$repo_url/releases/download/v$version
    fi
fi

tmp=$(mktemp -d)
staged=
trap 'rm -rf "$tmp" ${staged:+"$staged"}' EXIT
trap 'exit 130' INT TERM

# Copies FILE of the release into the scratch folder: from a folder, or over the network.
fetch() {
    case $from in
        *://*)
            if command -v curl >/dev/null 2>&1; then
                curl -fsSL --retry 3 -o "$tmp/$1" "$from/$1"
            elif command -v wget >/dev/null 2>&1; then
                wget -q -O "$tmp/$1" "$from/$1"
            else
                die 2 "neither curl nor wget is installed"
            fi
            ;;
        *) cp "$from/$1" "$tmp/$1" ;;
    esac
}

hash_of() {
    if command -v sha256sum >/dev/null 2>&1; then
        sha256sum "$1" | cut -d ' ' -f 1
    elif command -v shasum >/dev/null 2>&1; then
        shasum -a 256 "$1" | cut -d ' ' -f 1
    else
        die 2 "neither sha256sum nor shasum is installed to verify the download"
    fi
}

fetch "$asset" 2>/dev/null || die 2 "no $asset at $from (is $target built for release $version?)"
if [ -z "$sha256" ]; then
    fetch SHA256SUMS 2>/dev/null || die 2 "no SHA256SUMS at $from to verify $asset against"
    sha256=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1 }' "$tmp/SHA256SUMS")
    [ -n "$sha256" ] || die 2 "SHA256SUMS at $from has no line for $asset"
fi
actual=$(hash_of "$tmp/$asset")
[ "$actual" = "$sha256" ] || die 1 "checksum mismatch for $asset: expected $sha256, got $actual; nothing installed"

mkdir "$tmp/unpacked"
case $asset in
    *.zip) (cd "$tmp/unpacked" && unzip -q "../$asset") ;;
    *) tar -xzf "$tmp/$asset" -C "$tmp/unpacked" ;;
esac
binary=$tmp/unpacked/rollout-sim-$target/$exe
[ -f "$binary" ] || die 2 "$asset holds no rollout-sim-$target/$exe"

# Replace only a rollout-sim binary (an upgrade), never another file, unless --force.
dest=$to/$exe
if [ -e "$dest" ] || [ -L "$dest" ]; then
    if [ "$force" = no ]; then
        if [ -L "$dest" ] || ! [ -f "$dest" ] || ! "$dest" --version 2>/dev/null | grep -q '^rollout-sim '; then
            die 2 "$dest exists and is not a rollout-sim binary; nothing installed (--force replaces it)"
        fi
    fi
fi
mkdir -p "$to"
# Staged beside its place and renamed: the old binary stays whole until the new one is.
staged=$to/.rollout-sim.partial-$$
cp "$binary" "$staged"
chmod 755 "$staged"
mv -f "$staged" "$dest" || { rm -f "$staged"; die 2 "cannot write $dest"; }
echo "installed $("$dest" --version 2>/dev/null || echo rollout-sim) ($target) to $dest"
case ":${PATH:-}:" in
    *":$to:"*) ;;
    *) echo "note: $to is not on your PATH" ;;
esac
