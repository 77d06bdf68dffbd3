#!/usr/bin/env bash
# Copies an exported albert-tf bundle's model.tflite, manifest.json and labels.txt into the app's
# assets, after checking them the way the app will (manifest fields, labels vs manifest, sha256,
# and the tokenizer file the manifest names: spiece.model or vocab.txt). That file stays out of the
# assets: model.tflite carries the tokenizer in its metadata.
# Same job as `./gradlew copyBundle`, for people without Gradle set up yet.
#
#   android_demo/scripts/copy_bundle.sh [BUNDLE_DIR]      (default: runs/demo/bundle)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
demo="$(dirname "$here")"
repo="$(dirname "$demo")"
bundle="${1:-$repo/runs/demo/bundle}"
# ANDROID_ASSETS_DIR: copy somewhere else (tests use a temp folder)
assets="${ANDROID_ASSETS_DIR:-$demo/app/src/main/assets}"
files=(model.tflite manifest.json labels.txt)

for f in "${files[@]}"; do
  if [[ ! -f "$bundle/$f" ]]; then
    echo "error: $bundle/$f not found. Export a bundle first (make demo writes runs/demo/bundle/)," >&2
    echo "       or pass the bundle folder: $0 /path/to/bundle" >&2
    exit 1
  fi
done

# Check the bundle with the app's own (plain Java) reader when a JDK is here; the app repeats the
# check on the phone, so skipping it only moves the error message later.
if command -v javac >/dev/null 2>&1 && command -v java >/dev/null 2>&1; then
  classes="$(mktemp -d)"
  trap 'rm -rf "$classes"' EXIT
  javac --release 11 -d "$classes" $(find "$demo/core/src/main/java" -name '*.java')
  java -cp "$classes" org.alberttf.demo.core.BundleInspector "$bundle" >/dev/null
else
  echo "note: no JDK found, copying without checking the bundle" >&2
fi

mkdir -p "$assets"
for f in "${files[@]}"; do
  # temp name then rename, so a build never picks up a half-copied model
  cp "$bundle/$f" "$assets/.$f.tmp"
  mv -f "$assets/.$f.tmp" "$assets/$f"
done
echo "copied ${files[*]} from $bundle to $assets"
