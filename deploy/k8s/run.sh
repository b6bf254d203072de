#!/bin/sh
# One run on Kubernetes, start to verdict: a start time shared by every generator, the Indexed Job
# of generators, the merge, the results copied to ./results/<run id>/. Exits as `tokenbench merge`
# did: 0, 3 when a threshold of the scenario broke on the merged run, 2 when the shards do not
# make one run; 1 when a generator failed.
#   deploy/k8s/run.sh [seconds from now to the start of the measured phase, default 120]
set -eu
here=$(dirname "$0")
lead=${1:-120}

jsonpath() { kubectl get "$1" -o "jsonpath=$2"; }

kubectl delete job tokenbench-shards tokenbench-merge --ignore-not-found --wait=true
kubectl delete pod tokenbench-results --ignore-not-found --wait=true
# Computed once, here: every generator reads the same value from the ConfigMap (GNU date; on macOS: date -u -v+"${lead}"S).
start_at=$(date -u -d "+$lead seconds" +%Y-%m-%dT%H:%M:%SZ)
run_id=run-$(date -u +%Y%m%dT%H%M%SZ)
kubectl create configmap tokenbench-start --from-literal=START_AT="$start_at" --from-literal=RUN_ID="$run_id" \
  --dry-run=client -o yaml | kubectl apply -f -
echo "run $run_id: measured phase of every generator from $start_at"
kubectl apply -k "$here/generators"

# Every generator done, or one failed (backoffLimit 0: the shared start cannot be retried).
while [ "$(jsonpath job/tokenbench-shards '{.status.succeeded}')" != "$(jsonpath job/tokenbench-shards '{.spec.completions}')" ]; do
  if [ "$(jsonpath job/tokenbench-shards '{.status.failed}')" != "" ]; then
    kubectl logs -l job-name=tokenbench-shards --prefix --tail=20
    echo "a generator failed: the run is incomplete" >&2
    exit 1
  fi
  sleep 5
done

kubectl apply -k "$here/merge"
while [ "$(jsonpath job/tokenbench-merge '{.status.succeeded}{.status.failed}')" = "" ]; do sleep 2; done
kubectl logs job/tokenbench-merge
code=$(kubectl get pods -l job-name=tokenbench-merge -o 'jsonpath={.items[0].status.containerStatuses[0].state.terminated.exitCode}')

kubectl wait --for=condition=Ready pod/tokenbench-results --timeout=120s
mkdir -p results
kubectl cp "tokenbench-results:/results/$run_id" "results/$run_id"
kubectl delete pod tokenbench-results --wait=false
echo "results: results/$run_id (merged.json, merged.md, shard-*/)"
exit "${code:-1}"
