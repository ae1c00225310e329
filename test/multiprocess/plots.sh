#!/usr/bin/env bash
# scripts/plots (what make demo runs after the demo) draws its three pictures from a database
# with the demo data and the default models: each is a PNG of real size.
set -euo pipefail
command -v gnuplot >/dev/null || { echo "gnuplot is not installed (scripts/install-deps installs it)"; exit 1; }
psql -X -q -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
  -c "SELECT insight.load_demo_data(days => 10, seed => 7) IS NOT NULL" \
  -c "SELECT count(*) FROM insight.train_default_models()" >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
scripts/plots "$out" >/dev/null
for png in sales_forecast link_anomalies accuracy explained_forecast; do
  f="$out/$png.png"
  [ -f "$f" ] || { echo "$png.png was not drawn"; exit 1; }
  [ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || { echo "$png.png is no PNG"; exit 1; }
  [ "$(stat -c %s "$f")" -gt 10000 ] || { echo "$png.png is only $(stat -c %s "$f") bytes"; exit 1; }
done
echo "# scripts/plots drew sales_forecast, link_anomalies, accuracy and explained_forecast ($(du -ch "$out"/*.png | tail -1 | cut -f1))"
