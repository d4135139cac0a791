#!/bin/sh
# One canary child. AWS Batch, and batchship's local runner alike, tell each child which slice
# of the work is its own through AWS_BATCH_JOB_ARRAY_INDEX.
index="${AWS_BATCH_JOB_ARRAY_INDEX:-0}"
echo "child $index of $AWS_BATCH_JOB_ID, attempt $AWS_BATCH_JOB_ATTEMPT: $1"

# Knobs to watch the canary judge failures without touching the image (canary.environment):
if [ "$index" = "${FAIL_INDEX:-none}" ]; then
  echo "child $index fails on purpose (FAIL_INDEX)" >&2
  exit 3
fi
if [ "$index" = "${SLOW_INDEX:-none}" ]; then
  sleep "${SLOW_SECONDS:-600}"
fi
if [ "$index" = "${FLAKY_INDEX:-none}" ] && [ "$AWS_BATCH_JOB_ATTEMPT" = 1 ]; then
  echo "child $index fails its first attempt (FLAKY_INDEX)" >&2
  exit 4
fi
echo "child $index done"
