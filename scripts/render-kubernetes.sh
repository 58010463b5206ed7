#!/bin/sh
# Renders deploy/kubernetes/*.yaml for N drivers into OUT_DIR:
#   scripts/render-kubernetes.sh --drivers N --out OUT_DIR [--image IMAGE] [--name NAME]
#                                [--start-at EPOCH] -- RUN_ARGS...
# RUN_ARGS are what each driver passes to `stratbench run` (without `run`: a preset or scenario file and
# flags; each driver takes its own share of the load, so give each the per-driver rate).
# START_AT defaults to two minutes from now: long enough for the image pull and scheduling,
# after which every driver starts its first run at the same instant.
# Then: kubectl apply -f OUT_DIR/results-pvc.yaml -f OUT_DIR/driver-job.yaml
#       kubectl wait --for=condition=complete --timeout=1h job/NAME-drivers
#       kubectl apply -f OUT_DIR/merge-job.yaml
set -eu
here=$(cd "$(dirname "$0")/../deploy/kubernetes" && pwd)
drivers="" out="" image="stratbench:latest" name="stratbench" start_at=""
die() { echo "render-kubernetes.sh: $*" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
        --drivers) drivers="${2:-}"; shift 2 ;;
        --out) out="${2:-}"; shift 2 ;;
        --image) image="${2:-}"; shift 2 ;;
        --name) name="${2:-}"; shift 2 ;;
        --start-at) start_at="${2:-}"; shift 2 ;;
        --) shift; break ;;
        *) die "unknown option \`$1\` (see the comment at the top of this script)" ;;
    esac
done
case "$drivers" in ''|*[!0-9]*) die "--drivers must be a whole number from 1 to 1000, got \`$drivers\`" ;; esac
[ "$drivers" -ge 1 ] && [ "$drivers" -le 1000 ] || die "--drivers must be from 1 to 1000, got $drivers"
[ -n "$out" ] || die "--out DIR is required"
printf '%s' "$name" | grep -Eq '^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$' || die "--name must be a DNS label (a-z, 0-9, -), got \`$name\`"
printf '%s' "$image" | grep -Eq '^[A-Za-z0-9._/:@-]+$' || die "--image must be an image reference, got \`$image\`"
[ -n "$start_at" ] || start_at=$(( $(date +%s) + 120 ))
printf '%s' "$start_at" | grep -Eq '^[0-9]+(\.[0-9]+)?$' || die "--start-at must be seconds since the UNIX epoch, got \`$start_at\`"
[ $# -gt 0 ] || die "give the driver's \`stratbench run\` arguments after --"
[ "$1" != run ] || die "give what follows \`stratbench run\` (driver.sh adds \`run\`), not \`run\` itself"
for arg in "$@"; do
    case "$arg" in --driver-id|--driver-id=*|--start-at|--start-at=*|--out|--out=*)
        die "\`$arg\` is set per pod by driver.sh; leave it out" ;; esac
done
mkdir -p "$out"
# Each run argument as a YAML double-quoted list item.
args_file="$out/.args"
: > "$args_file"
for arg in "$@"; do
    quoted=$(printf '%s' "$arg" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g')
    printf '            - "%s"\n' "$quoted" >> "$args_file"
done
for template in results-pvc.yaml driver-job.yaml merge-job.yaml; do
    sed -e "s|@DRIVERS@|$drivers|g" -e "s|@START_AT@|$start_at|g" -e "s|@IMAGE@|$image|g" -e "s|@NAME@|$name|g" \
        -e "/^@ARGS@\$/{r $args_file" -e 'd;}' "$here/$template" > "$out/$template"
done
rm -f "$args_file"
echo "rendered $drivers driver(s) into $out, starting at $start_at ($(date -u -d "@${start_at%.*}" '+%Y-%m-%d %H:%M:%S UTC'))" >&2
