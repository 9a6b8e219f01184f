# shellcheck shell=bash
# tools/lib/debian.sh -- sourced by tools/arm64-host/build-image and
# tools/guest/build-guest.  Fetches Debian arm64 packages through a PRIVATE
# apt configuration (the system's /etc/apt is only read, to find the mirror)
# and picks kernel modules out of a kernel package.  Nothing arm64 is ever
# executed on the host: .debs are unpacked with dpkg-deb -x.
#
# The caller sets PROG (its name, for messages) before sourcing this file.
#
# Cache layout (shared by both tools, so each .deb is downloaded once):
#   $JVMM_CACHE/debian/apt/    private apt state: sources.list, indexes
#   $JVMM_CACHE/debian/debs/   downloaded .debs, verified against the index
#   $JVMM_CACHE/.lock          held by a build for its whole duration

JVMM_CACHE=${JVMM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jvmm}
DEBIAN_SUITE=${JVMM_DEBIAN_SUITE:-trixie}
DEBIAN_CACHE=$JVMM_CACHE/debian
DEBIAN_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
# Debian's cloud flavour: CONFIG_KVM=y, virtio-pci, PL011, GICv3 ITS and ext4
# built in, and a much smaller module tree than the generic flavour.
KERNEL_META=linux-image-cloud-arm64

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

sha256_of() { sha256sum < "$1" | cut -d' ' -f1; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}

# ensure_host_tools CMD:PKG ...  -- apt-get install the packages whose command
# is missing (as root, or with passwordless sudo as on CI runners).
ensure_host_tools() {
    local missing=() pair
    for pair in "$@"; do
        command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    install_host_pkgs "${missing[@]}"
}

install_host_pkgs() {
    log "installing host packages: $*"
    local apt=(env DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=600
               --no-install-recommends install "$@")
    as_root "${apt[@]}" </dev/null >&2 \
        || { as_root apt-get -q update </dev/null >&2 && as_root "${apt[@]}" </dev/null >&2; } \
        || die "cannot install host packages: $*"
}

# debian_mirror -- the Debian mirror of the system's apt sources (first entry
# for a Debian suite, not -security), $JVMM_DEBIAN_MIRROR, or Debian's own
# redirector deb.debian.org on hosts without a Debian mirror (e.g. Ubuntu CI).
debian_mirror() {
    if [ -n "${JVMM_DEBIAN_MIRROR:-}" ]; then echo "${JVMM_DEBIAN_MIRROR%/}"; return; fi
    local re='^(buster|bullseye|bookworm|trixie|forky|duke|sid|oldstable|stable|testing|unstable)(-updates|-backports)?$'
    local f u
    u=$( {
        for f in /etc/apt/sources.list.d/*.sources; do
            [ -f "$f" ] && { cat "$f"; echo; }
        done | awk -v re="$re" '
            function flush() { if (uri != "" && ok && enabled != "no") print uri; uri = ""; ok = 0; enabled = "" }
            /^[ \t]*$/ { flush(); next }
            /^[ \t]*#/ { next }
            tolower($1) == "uris:"    { uri = $2 }
            tolower($1) == "suites:"  { for (i = 2; i <= NF; i++) if ($i ~ re) ok = 1 }
            tolower($1) == "enabled:" { enabled = tolower($2) }
            END { flush() }'
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
            | sed 's/\[[^]]*\]//' | awk -v re="$re" '$1 == "deb" && $3 ~ re { print $2 }'
    } | grep -E '^(https?|ftp)://' | head -n1 || true)
    if [ -z "$u" ]; then
        u=http://deb.debian.org/debian
        log "no Debian mirror in /etc/apt; using $u (set JVMM_DEBIAN_MIRROR to override)"
    fi
    echo "${u%/}"
}

# jvmm_lock -- serialise builds sharing the cache (held until the script exits).
jvmm_lock() {
    mkdir -p "$JVMM_CACHE"
    exec 9>"$JVMM_CACHE/.lock"
    flock -w 1800 9 || die "another build holds $JVMM_CACHE/.lock"
}

# debian_apt_setup [refresh] -- write the private apt configuration and
# download the indexes if they are missing (or refresh=1).  The indexes are
# not refreshed on a timer: builds stay reproducible until --refresh, and a
# download that fails (a superseded version) triggers one refresh.
APTD=$DEBIAN_CACHE/apt
APT_OPTS=()
debian_apt_setup() {
    local refresh=${1:-0} line
    ensure_host_tools apt-get:apt dpkg-deb:dpkg sha256sum:coreutils flock:util-linux
    [ -f "$DEBIAN_KEYRING" ] || install_host_pkgs debian-archive-keyring
    mkdir -p "$APTD/lists/partial" "$APTD/archives/partial" "$APTD/cache" "$APTD/sources.list.d" \
             "$DEBIAN_CACHE/debs"
    [ -f "$APTD/status" ] || : > "$APTD/status"
    line="deb [arch=arm64 signed-by=$DEBIAN_KEYRING] $(debian_mirror) $DEBIAN_SUITE main"
    if [ "$(cat "$APTD/sources.list" 2>/dev/null)" != "$line" ]; then
        echo "$line" > "$APTD/sources.list"
        refresh=1
    fi
    # arm64 is apt's native architecture here, and the dpkg status is an
    # empty private file: the host's installed packages play no part.  The
    # binary cache (pkgcache.bin) makes each apt-cache call ~0.3 s, not ~1 s.
    APT_OPTS=(-o "Dir::State=$APTD" -o "Dir::State::Lists=$APTD/lists" -o "Dir::State::status=$APTD/status"
              -o "Dir::Etc::SourceList=$APTD/sources.list" -o "Dir::Etc::SourceParts=$APTD/sources.list.d"
              -o "Dir::Cache=$APTD/cache" -o "Dir::Cache::archives=$APTD/archives"
              -o "Dir::Cache::pkgcache=$APTD/cache/pkgcache.bin"
              -o Dir::Cache::srcpkgcache=
              -o APT::Architecture=arm64 -o APT::Architectures::=arm64
              -o Acquire::Languages=none -o APT::Sandbox::User=root -o Debug::NoLocking=1)
    if [ "$refresh" = 1 ] || [ ! -f "$APTD/lists/.updated" ]; then
        log "apt-get update ($DEBIAN_SUITE arm64, private configuration in $APTD)"
        rm -f "$APTD/lists/.updated"
        apt-get "${APT_OPTS[@]}" -q update </dev/null >&2 || die "apt-get update failed"
        date -u +%Y-%m-%dT%H:%M:%SZ > "$APTD/lists/.updated"
    fi
}

aptc() { apt-cache "${APT_OPTS[@]}" "$@" 2>/dev/null; }

# debian_index_id -- changes whenever the indexes change (for fast paths).
debian_index_id() {
    cat "$APTD/lists/.updated" "$APTD"/lists/*InRelease 2>/dev/null | sha256sum | cut -d' ' -f1
}

# debian_kernel_pkg -- the versioned kernel package behind the metapackage,
# e.g. linux-image-6.12.57+deb13-cloud-arm64.
debian_kernel_pkg() {
    local k
    k=$(aptc depends "$KERNEL_META" | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
    [ -n "$k" ] || die "cannot resolve $KERNEL_META in $DEBIAN_SUITE"
    echo "${k%:arm64}"
}

# debian_lib_deps PKG... -- recursive hard dependencies that are libraries
# (which .so files are really shipped is decided from DT_NEEDED later).
debian_lib_deps() {
    aptc depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
             --no-replaces --no-enhances "$@" \
        | grep -v '^ ' | sed 's/:arm64$//' | grep -E '^(lib|zlib1g)' | sort -u | tr '\n' ' '
}

# debian_fetch PKG... -- make sure each package's .deb is in the cache and
# matches the index's SHA256.  Sets DEB[pkg] (path) and DEB_VERSION[pkg].
# Returns 1 if a download failed (the caller refreshes the index and retries).
declare -A DEB=() DEB_VERSION=()
debian_fetch() {
    local info p rec f ver arch pool sum missing=() dl dldir
    declare -A want=()
    info=$(aptc show --no-all-versions "$@" | awk '
        /^Package:/ { p = $2 } /^Version:/ { v = $2 } /^Architecture:/ { a = $2 }
        /^Filename:/ { f = $2 } /^SHA256:/ { s = $2 }
        /^$/ { if (p != "") print p, v, a, f, s; p = "" }
        END  { if (p != "") print p, v, a, f, s }')
    for p in "$@"; do
        rec=$(awk -v p="$p" '$1 == p { print $2, $3, $4, $5; exit }' <<<"$info")
        [ -n "$rec" ] || { log "package $p not found in $DEBIAN_SUITE"; return 1; }
        read -r ver arch pool sum <<<"$rec"
        f=$DEBIAN_CACHE/debs/${pool##*/}
        # shellcheck disable=SC2034  # read by the scripts that source this file
        DEB[$p]=$f DEB_VERSION[$p]=$ver
        # A cached .deb is trusted if its name (package_version_arch) matches
        # and its checksum was verified when it was stored (.sha256 beside it).
        if [ -f "$f" ] && [ "$(cat "$f.sha256" 2>/dev/null)" = "$sum" ]; then continue; fi
        missing+=("$p=$ver")
        want["${p}_${ver//:/%3a}_$arch.deb"]="$f $sum"     # apt-get download's file name
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "downloading ${#missing[@]} package(s)"
    dldir=$DEBIAN_CACHE/debs/.dl.$$
    rm -rf "$dldir"; mkdir -p "$dldir"
    if ! (cd "$dldir" && apt-get "${APT_OPTS[@]}" -q download "${missing[@]}" </dev/null >&2); then
        rm -rf "$dldir"; return 1
    fi
    for dl in "${!want[@]}"; do
        read -r f sum <<<"${want[$dl]}"
        [ -f "$dldir/$dl" ] || { rm -rf "$dldir"; die "apt-get download did not produce $dl"; }
        [ "$(sha256_of "$dldir/$dl")" = "$sum" ] || { rm -rf "$dldir"; die "checksum mismatch: $dl"; }
        mv "$dldir/$dl" "$f"
        echo "$sum" > "$f.sha256"
    done
    rm -rf "$dldir"
}

# kernel_image_check IMAGE -- a raw arm64 Image (Documentation/arch/arm64/
# booting.rst: magic "ARM\x64" at offset 0x38), not a compressed one.
kernel_image_check() {
    [ "$(od -An -tx1 -j56 -N4 "$1" | tr -d ' \n')" = 41524d64 ] \
        || die "$1 is not a raw arm64 Image (no ARM\\x64 magic at 0x38)"
}

# kmod_ship MODDIR DEST LIST NAME... -- copy the modules NAME (and, first,
# the modules they depend on, from .modinfo "depends=") from the unpacked
# kernel package's module tree MODDIR into DEST, decompressed, and append
# their file names to LIST in load order.  Built-in modules are skipped.
declare -A KMOD_SEEN=()
kmod_ship() {
    local moddir=$1 dest=$2 list=$3 name path deps tmp
    shift 3
    for name in "$@"; do
        name=${name//-/_}
        [ -n "${KMOD_SEEN[$name]:-}" ] && continue
        KMOD_SEEN[$name]=1
        path=$(find "$moddir/kernel" \( -name "$name.ko*" -o -name "${name//_/-}.ko*" \) -print -quit)
        if [ -z "$path" ]; then
            grep -qE "/($name|${name//_/-})\\.ko" "$moddir/modules.builtin" 2>/dev/null \
                && { log "module $name is built into the kernel"; continue; }
            die "kernel module $name not found in ${moddir##*/}"
        fi
        mkdir -p "$dest"
        tmp=$dest/.$name.ko
        case "$path" in
            *.xz)  xz -dc "$path" > "$tmp" ;;
            *.zst) zstd -qdc "$path" > "$tmp" ;;
            *.gz)  gzip -dc "$path" > "$tmp" ;;
            *)     cp "$path" "$tmp" ;;
        esac
        # .modinfo is a list of NUL-terminated "key=value" strings.
        deps=$(tr '\0' '\n' < "$tmp" | sed -n 's/^depends=//p' | head -n1 | tr ',' ' ')
        # shellcheck disable=SC2086
        [ -n "$deps" ] && kmod_ship "$moddir" "$dest" "$list" $deps
        mv "$tmp" "$dest/$name.ko"
        echo "$name.ko" >> "$list"
    done
}
