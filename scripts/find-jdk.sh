# Sourced by ./bitnet4j and ./mvnw: sets BITNET4J_JAVA_HOME to a JDK >= 25, or explains and exits.
# Order: $JAVA_HOME, then the usual install locations (Linux packages, SDKMAN, macOS, /opt).

bitnet4j_java_major() {
  # prints the major version of the JDK at $1, or nothing
  [ -x "$1/bin/java" ] && [ -x "$1/bin/javac" ] || return 1
  "$1/bin/java" -XshowSettings:properties -version 2>&1 \
    | awk -F'= ' '/java.specification.version/ {print $2; exit}'
}

bitnet4j_find_jdk() {
  local candidate major
  for candidate in "${JAVA_HOME:-}" \
      /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* \
      "$HOME"/.sdkman/candidates/java/* "$HOME"/.jdks/* \
      /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$candidate" ] && [ -d "$candidate" ] || continue
    major=$(bitnet4j_java_major "$candidate") || continue
    case "$major" in ''|*[!0-9]*) continue ;; esac
    if [ "$major" -ge 25 ]; then
      BITNET4J_JAVA_HOME=$candidate
      return 0
    fi
  done
  cat >&2 <<MSG
bitnet4j needs a JDK 25 or newer, and none was found.
Looked at \$JAVA_HOME (${JAVA_HOME:-unset}), /usr/lib/jvm, /usr/java, /opt, SDKMAN and macOS locations.
Install one (e.g. Temurin 25) and set JAVA_HOME to it.
MSG
  exit 1
}
