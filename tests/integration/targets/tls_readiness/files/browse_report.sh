#!/usr/bin/env bash
# Opens a readiness HTML report in real headless Chromium with the network off (a private network namespace with
# no interface up), takes a screenshot, dumps the rendered DOM and Chromium's network log, and checks that the
# page rendered its counts and picture and that no request left the page.
#   browse_report.sh REPORT.html SCREENSHOT.png "EXPECTED COUNTS TEXT"
set -euo pipefail
page=$(readlink -f "$1")
shot=$2
expected=$3
work=$(mktemp -d /tmp/browse-report.XXXXXX)
trap 'rm -rf "$work"' EXIT
browser=(chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run --disable-extensions
         --disable-background-networking --disable-component-update --disable-sync --disable-default-apps
         --user-data-dir="$work/profile" "--window-size=1100,900")
# root may make network namespaces; chromium as root needs --no-sandbox, and this one never leaves the namespace
unshare -n "${browser[@]}" --log-net-log="$work/netlog.json" --virtual-time-budget=3000 --dump-dom "file://$page" > "$work/dom.html" 2>"$work/dom.log"
unshare -n "${browser[@]}" --screenshot="$shot" "file://$page" > "$work/shot.log" 2>&1
test -s "$shot" || { cat "$work/shot.log"; echo "no screenshot" >&2; exit 1; }
grep -q "$expected" "$work/dom.html" || { echo "the rendered page lacks: $expected" >&2; exit 1; }
if ! grep -q '<svg' "$work/dom.html" || ! grep -q 'id="verdict"' "$work/dom.html"; then
  echo "the rendered page lacks its picture" >&2; exit 1
fi
python3 - "$work/netlog.json" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
# the net log of a browser that exits at once may lack its closing brackets
try:
    log = json.loads(text)
except ValueError:
    log = json.loads(text.rstrip().rstrip(",") + "]}")
alive = log["constants"]["logEventTypes"]["REQUEST_ALIVE"]
# Requests the page makes carry the traffic annotation of Blink's resource loader; the browser's own background
# requests (component updates, time) carry theirs, and with the network off they go nowhere either.
PAGE = 101845102
requests = [(e["params"].get("url", ""), e["params"].get("traffic_annotation"))
            for e in log["events"] if e["type"] == alive and e.get("params")]
left = sorted({url for url, note in requests if note == PAGE and not re.match(r"(file|data|about):", url)})
if left:
    sys.exit("requests left the page: %s" % left)
print("no request left the page (%d browser requests seen, none from the page)" % len(requests))
PY
