#!/usr/bin/env bash
# Deploys the queue worker to a Nimbus server with the AWS CLI only: the queue "orders" with a dead-letter queue
# (three receives), the function "order-worker", and an event source mapping that reports partial batch failures.
# Running it again updates the function's code.
#
#   examples/queue-worker/deploy.sh
#
# Environment: NIMBUS_ENDPOINT (default http://127.0.0.1:9000), AWS_REGION (default us-east-1),
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default test/test; with --auth sigv4 use the key `nimbus serve` prints).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
endpoint=${NIMBUS_ENDPOINT:-http://127.0.0.1:9000}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} AWS_PAGER=""
command -v aws >/dev/null 2>&1 || { echo "error: the AWS CLI is not installed (Debian: apt-get install awscli)" >&2; exit 2; }
nimbus_aws() { aws --endpoint-url "$endpoint" --region "$region" --output text "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m zipfile -c "$work/worker.zip" "$here/worker.py"
account=$(nimbus_aws sts get-caller-identity --query Account)

dlq_url=$(nimbus_aws sqs create-queue --queue-name orders-dlq --query QueueUrl)
dlq_arn=$(nimbus_aws sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names QueueArn --query Attributes.QueueArn)
# RedrivePolicy is a JSON document inside the attribute map's string value.
attributes=$(python3 -c 'import json, sys
print(json.dumps({"VisibilityTimeout": "5",
                  "RedrivePolicy": json.dumps({"deadLetterTargetArn": sys.argv[1], "maxReceiveCount": "3"})}))' "$dlq_arn")
queue_url=$(nimbus_aws sqs create-queue --queue-name orders --attributes "$attributes" --query QueueUrl)
queue_arn=$(nimbus_aws sqs get-queue-attributes --queue-url "$queue_url" --attribute-names QueueArn --query Attributes.QueueArn)

if nimbus_aws lambda get-function --function-name order-worker --query Configuration.FunctionArn >/dev/null 2>&1; then
    nimbus_aws lambda update-function-code --function-name order-worker --zip-file "fileb://$work/worker.zip" --query FunctionArn >/dev/null
    echo "Updated function order-worker"
else
    nimbus_aws lambda create-function --function-name order-worker --runtime python3.12 --handler worker.handler \
        --role "arn:aws:iam::$account:role/order-worker" --zip-file "fileb://$work/worker.zip" --query FunctionArn >/dev/null
    echo "Created function order-worker"
fi

existing=$(nimbus_aws lambda list-event-source-mappings --function-name order-worker --event-source-arn "$queue_arn" \
    --query 'EventSourceMappings[0].UUID')
if [ -z "$existing" ] || [ "$existing" = "None" ]; then
    nimbus_aws lambda create-event-source-mapping --function-name order-worker --event-source-arn "$queue_arn" \
        --batch-size 10 --function-response-types ReportBatchItemFailures --query UUID >/dev/null
    echo "Mapped $queue_arn to order-worker"
fi

cat <<EOT

Queue: $queue_url (dead letters: $dlq_url)

Send 100 orders (every tenth is invalid and ends in orders-dlq after three tries):
  AWS_ENDPOINT_URL=$endpoint python3 $here/produce.py 100
Watch the worker:
  aws --endpoint-url $endpoint logs tail /aws/lambda/order-worker --follow
See what was dead-lettered:
  aws --endpoint-url $endpoint sqs receive-message --queue-url $dlq_url --max-number-of-messages 10
EOT
