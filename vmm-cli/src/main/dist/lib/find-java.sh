# Finds a Java 25 (or newer): sourced by bin/jvmm, and by scripts/find-jdk25 for the build, so the launcher and the
# build look in the same places in the same order. POSIX sh: it runs under busybox ash in the emulated arm64 host.
# find_java25 sets JVMM_JAVA_HOME and returns 0, or returns 1. Order: $JAVA_HOME, then the Debian and Temurin
# install places, then `java` on PATH.

# Whether $1 is the home of a Java 25 or newer.
java25_ok() {
    # The JDK's `release` file names its version: reading it costs nothing, while asking `java -version` is a
    # whole extra JVM start (seconds under emulation). Fall back to asking only where the file is missing.
    [ -x "$1/bin/java" ] || return 1
    if [ -r "$1/release" ]; then
        v=$(sed -n 's/^JAVA_VERSION="\([0-9]*\).*/\1/p' "$1/release")
    else
        v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
    fi
    [ -n "$v" ] && [ "$v" -ge 25 ] 2>/dev/null
}

find_java25() {
    JVMM_JAVA_HOME=
    for cand in "${JAVA_HOME:-}" /usr/lib/jvm/java-25-openjdk-arm64 /usr/lib/jvm/java-25-openjdk-amd64 \
                /usr/lib/jvm/java-25-openjdk /usr/lib/jvm/temurin-25-jdk-arm64 /usr/lib/jvm/temurin-25-jdk-amd64; do
        if [ -n "$cand" ] && java25_ok "$cand"; then JVMM_JAVA_HOME=$cand; return 0; fi
    done
    if command -v java >/dev/null 2>&1; then
        cand=$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")
        if java25_ok "$cand"; then JVMM_JAVA_HOME=$cand; return 0; fi
    fi
    return 1
}
