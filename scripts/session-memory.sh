#!/usr/bin/env bash
# Resident memory of a long notebook-like session (scripts/session-memory.jsh) in JShell, as a kernel
# runs it: same JVM flags as the launcher. Needs the lab built (./safetune builds it) and the stages
# of ./safetune reproduce.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${SAFETUNE_BUILD_DIR:-$here/target}"
cp="$build/safetune-lab-0.1.0-SNAPSHOT.jar:$(ls "$build"/lib/*.jar | tr '\n' ':')"
cd "$here"
exec jshell --class-path "$cp" -R-Dai.djl.offline=true -R-Xmn8m -R-Dorg.slf4j.simpleLogger.defaultLogLevel=warn \
  "$here/scripts/session-memory.jsh"
