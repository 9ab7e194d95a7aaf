#!/usr/bin/env bash
# Executes the lab's notebooks headless in the "SafeTune (Java)" kernel (see kernel-ext/README.md).
#
#   scripts/notebooks.sh run   [NOTEBOOK.ipynb ...]   re-executes each in place, outputs kept (what is committed)
#   scripts/notebooks.sh check [NOTEBOOK.ipynb ...]   executes each into a temporary folder and fails on
#       a cell error, on a notebook without a PNG (image/png or inline in HTML) or without an HTML table,
#       on log noise (SLF4J warnings, DJL's GPU probe) in a cell's output, and on what `lint` finds
#   scripts/notebooks.sh lint  [NOTEBOOK.ipynb ...]   checks the stored outputs only (no kernel, no
#       execution): fails when the same image is stored twice (in one cell or the notebook, as image/png
#       or as an inline PNG in HTML) or an HTML table cell holds a number of more than 6 significant digits
#
# Default notebooks: notebooks/*.ipynb and kernel-ext/src/test/notebooks/*.ipynb. The kernelspec is
# written into $SAFETUNE_BUILD_DIR/jupyter (default target/jupyter) by `safetune kernel install`, for
# rapaio-jupyter-kernel, or for IJava when SAFETUNE_IJAVA_JAR names IJava's jar. Debian's
# jupyter-nbconvert is installed with apt-get when /usr/bin/jupyter is missing. SAFETUNE_NOTEBOOK_OUT=DIR
# keeps what `check` executed (notebooks and nbconvert logs) in DIR.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
jupyter=/usr/bin/jupyter # the python3 first on PATH may lack nbformat/nbclient: use Debian's
python=/usr/bin/python3

usage() {
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
}

mode="${1:-}"
case "$mode" in
  run | check | lint) shift ;;
  -h | --help) usage; exit 0 ;;
  *) usage; exit 2 ;;
esac

notebooks=("$@")
if [ ${#notebooks[@]} -eq 0 ]; then
  shopt -s nullglob
  notebooks=("$here"/notebooks/*.ipynb "$here"/kernel-ext/src/test/notebooks/*.ipynb)
  shopt -u nullglob
fi
if [ ${#notebooks[@]} -eq 0 ]; then
  echo "notebooks: none found" >&2
  exit 1
fi
for nb in "${notebooks[@]}"; do
  [ -f "$nb" ] || { echo "notebooks: no such notebook: $nb" >&2; exit 2; }
done

# Checks one notebook's outputs; prints a one-line summary, exits 1 with the reasons when it fails.
# argv: NOTEBOOK MODE, MODE "check" (an executed notebook: everything) or "lint" (stored outputs: only the
# image and number rules, which hold for any notebook whatever it was executed with).
check_py='
import base64, json, re, sys
path, mode = sys.argv[1], sys.argv[2]
nb = json.load(open(path, encoding="utf-8"))
def text(v):
    return "".join(v) if isinstance(v, list) else (v or "")
INLINE = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=\s]+)")
CELL = re.compile(r"<td[^>]*>(.*?)</td>", re.S)
NUMBER = re.compile(r"(?<![\w.])[-+]?(\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])")
def significant(mantissa):
    # 0.000123 -> 3, 12.50 -> 4 (written zeros after a point count), 3000 -> 1 (an integer`s trailing zeros do not)
    digits = mantissa.replace(".", "").lstrip("0")
    if "." not in mantissa:
        digits = digits.rstrip("0")
    return len(digits)
errors, noise, png, tables, progress, lint = [], [], 0, 0, [], []
seen = {}  # image bytes -> first cell that stored them
for i, cell in enumerate(nb.get("cells", [])):
    if cell.get("cell_type") != "code":
        continue
    bars = 0
    for o in cell.get("outputs", []):
        kind = o.get("output_type")
        if kind == "error":
            errors.append("cell %d: %s: %s" % (i, o.get("ename"), o.get("evalue")))
        if kind == "stream":
            t = text(o.get("text"))
            for pattern in ("SLF4J", "Failed to detect GPU"):
                if pattern in t:
                    noise.append("cell %d: %s" % (i, t.strip().splitlines()[0][:160]))
        data = o.get("data", {})
        html = text(data.get("text/html"))
        images = [text(data["image/png"])] if "image/png" in data else []
        images += INLINE.findall(html)
        png += len(images)
        for b64 in images:
            raw = base64.b64decode("".join(b64.split()))
            if raw in seen:
                where = "twice in cell %d" % i if seen[raw] == i else "in cell %d and again in cell %d" % (seen[raw], i)
                lint.append("the same image (%d bytes) stored %s" % (len(raw), where))
            else:
                seen[raw] = i
        if "<table" in html:
            tables += 1
        long = [m.group(0) for td in CELL.findall(html) for m in NUMBER.finditer(re.sub(r"<[^>]+>", " ", td))
                if significant(m.group(1)) > 6]
        if long:
            lint.append("cell %d: %d table numbers of more than 6 significant digits (%s%s)"
                        % (i, len(long), ", ".join(long[:3]), ", …" if len(long) > 3 else ""))
        if "<progress" in html:
            bars += 1
    if bars:
        progress.append(bars)
problems = list(lint)
if mode == "check":
    problems = errors + noise + problems
    if png == 0:
        problems.append("no PNG output (image/png or inline in text/html)")
    if tables == 0:
        problems.append("no text/html output with a table")
summary = "%d PNG, %d HTML tables, progress displays per cell %s" % (png, tables, progress or "none")
if problems:
    print("FAILED (" + summary + "): " + "; ".join(problems))
    sys.exit(1)
print("ok (" + summary + ")")
'

if [ "$mode" = lint ]; then # stored outputs only: no kernel, no nbconvert
  failed=0
  for nb in "${notebooks[@]}"; do
    if verdict="$("$python" -c "$check_py" "$nb" lint)"; then
      echo "notebooks: $nb: $verdict" >&2
    else
      echo "notebooks: $nb: $verdict" >&2
      failed=$((failed + 1))
    fi
  done
  echo "notebooks: lint: $((${#notebooks[@]} - failed)) passed, $failed failed"
  [ "$failed" -eq 0 ]
  exit
fi

if ! "$jupyter" nbconvert --version >/dev/null 2>&1; then
  echo "notebooks: installing Debian's jupyter-nbconvert (apt-get)..." >&2
  sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "notebooks: need root or sudo to install jupyter-nbconvert" >&2; exit 1; }
    sudo=(sudo)
  fi
  "${sudo[@]}" apt-get update -qq >&2
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends jupyter-nbconvert >&2
fi

build="${SAFETUNE_BUILD_DIR:-$here/target}"
jp="$build/jupyter"
install_args=(kernel install --jupyter-path "$jp" --name safetune)
if [ -n "${SAFETUNE_IJAVA_JAR:-}" ]; then
  install_args+=(--ijava-jar "$SAFETUNE_IJAVA_JAR")
fi
"$here/safetune" "${install_args[@]}" >&2

exec_opts=(--to notebook --execute
  --ExecutePreprocessor.kernel_name=safetune
  --ExecutePreprocessor.startup_timeout=300
  --ExecutePreprocessor.timeout=600)

if [ -n "${SAFETUNE_NOTEBOOK_OUT:-}" ]; then # keep the executed notebooks and logs of `check`
  tmp="$SAFETUNE_NOTEBOOK_OUT"
  mkdir -p "$tmp"
else
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
fi
passed=0
failed=0
i=0
for nb in "${notebooks[@]}"; do
  i=$((i + 1))
  name="$(basename "$nb" .ipynb)"
  log="$tmp/$i-$name.log"
  start=$(date +%s)
  if [ "$mode" = run ]; then
    out="$nb"
    target=(--inplace "$nb")
  else
    out="$tmp/$i-$name.ipynb"
    target=(--output-dir "$tmp" --output "$i-$name" "$nb")
  fi
  # A kernel that stays mute at start-up, or that lost a channel thread to rapaio 3.0.1's start-up race
  # (the kernelspec's main class then exits at once, saying so), is started again, twice at most.
  for attempt in 1 2 3; do
    ok=0
    JUPYTER_PATH="$jp" "$jupyter" nbconvert "${exec_opts[@]}" "${target[@]}" >"$log" 2>&1 || ok=$?
    if [ "$ok" -eq 0 ] || ! grep -q -e "Kernel died before replying to kernel_info" -e "Kernel didn't respond in" \
        -e "safetune: rapaio-jupyter-kernel lost" "$log"; then
      break
    fi
    echo "notebooks: $nb: the kernel did not start (attempt $attempt)" >&2
    [ "$attempt" -lt 3 ] && mv "$log" "$log.$attempt"
  done
  secs=$(($(date +%s) - start))
  if [ "$ok" -ne 0 ]; then
    echo "notebooks: $nb: FAILED to execute in ${secs} s (nbconvert exit $ok); its log ends:" >&2
    grep -v '^\[20[0-9-]* [0-9:]*\] \[INFO' "$log" | tail -n 40 >&2
    failed=$((failed + 1))
    continue
  fi
  if verdict="$("$python" -c "$check_py" "$out" check)"; then
    echo "notebooks: $nb: $verdict, ${secs} s" >&2
    passed=$((passed + 1))
  else
    echo "notebooks: $nb: $verdict, ${secs} s" >&2
    failed=$((failed + 1))
  fi
done
echo "notebooks: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
