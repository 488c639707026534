#!/usr/bin/env bash
# Creates the Secrets the dev overlay expects, with random passwords, so that none is in git.
# Run it after the operators have created etawatch-rabbit-default-user (apply the overlay once,
# or apply postgres.yaml and rabbitmq.yaml first). Safe to run again: existing passwords are kept.
#   NAMESPACE (default etawatch-dev)
set -euo pipefail
ns="${NAMESPACE:-etawatch-dev}"
k() { kubectl --namespace "$ns" "$@"; }

exists() { k get secret "$1" >/dev/null 2>&1; }
random() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
decode() { k get secret "$1" -o "jsonpath={.data.$2}" | base64 -d; }

kubectl get namespace "$ns" >/dev/null 2>&1 || kubectl create namespace "$ns"

db_secret() {  # name role
    if exists "$1"; then echo "kept $1"; return; fi
    local password
    password="$(random)"
    k create secret generic "$1" \
        --from-literal=username="$2" \
        --from-literal=password="$password" \
        --from-literal=url="postgresql://$2:$password@etawatch-pg-rw:5432/etawatch"
    echo "created $1"
}
db_secret etawatch-ledger-db etawatch_ledger
db_secret etawatch-ledger-reader-db etawatch_reader
db_secret etawatch-query-api-db etawatch_query_api
db_secret etawatch-notifier-db etawatch_notifier

if ! exists etawatch-amqp; then
    echo "waiting for the RabbitMQ operator's etawatch-rabbit-default-user ..."
    for _ in $(seq 60); do exists etawatch-rabbit-default-user && break; sleep 5; done
    user="$(decode etawatch-rabbit-default-user username)"
    password="$(decode etawatch-rabbit-default-user password)"
    k create secret generic etawatch-amqp \
        --from-literal=url="amqp://$user:$password@etawatch-rabbit:5672/"
    echo "created etawatch-amqp"
fi

if ! exists etawatch-scraper-example; then
    # The example CronJob is suspended in dev; replace these with a real portal account.
    k create secret generic etawatch-scraper-example \
        --from-literal=username=example --from-literal=password="$(random)"
    echo "created etawatch-scraper-example"
fi
