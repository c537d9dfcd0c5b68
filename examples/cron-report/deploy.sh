#!/usr/bin/env bash
# Deploys cron-report to a Nimbus server with the AWS CLI only: the function "cron-report" (app.py), the EventBridge
# rule "cron-report-every-minute" with the schedule rate(1 minute), the permission that lets EventBridge invoke the
# function for that rule (as on AWS: without it the rule fires but the function is never invoked), and the rule's
# target. Running it again updates the function's code and the rule's schedule, and keeps the rest.
#
#   examples/cron-report/deploy.sh
#
# Environment: NIMBUS_ENDPOINT (default http://127.0.0.1:9000), AWS_REGION (default us-east-1),
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default test/test; with --auth sigv4 use the key `nimbus serve` prints),
# FUNCTION_NAME (cron-report), RULE_NAME (cron-report-every-minute), SCHEDULE (rate(1 minute); any EventBridge rate
# or cron expression, e.g. 'cron(0 12 * * ? *)' for every day at 12:00 UTC).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
endpoint=${NIMBUS_ENDPOINT:-http://127.0.0.1:9000}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
function=${FUNCTION_NAME:-cron-report}
rule=${RULE_NAME:-cron-report-every-minute}
schedule=${SCHEDULE:-rate(1 minute)}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} AWS_PAGER=""
command -v aws >/dev/null 2>&1 || { echo "error: the AWS CLI is not installed (Debian: apt-get install awscli)" >&2; exit 2; }
nimbus_aws() { aws --endpoint-url "$endpoint" --region "$region" --output text "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 -m zipfile -c "$work/function.zip" "$here/app.py"
account=$(nimbus_aws sts get-caller-identity --query Account)

if nimbus_aws lambda get-function --function-name "$function" --query Configuration.FunctionArn >/dev/null 2>&1; then
    nimbus_aws lambda update-function-code --function-name "$function" --zip-file "fileb://$work/function.zip" \
        --query FunctionArn >/dev/null
    nimbus_aws lambda wait function-updated --function-name "$function"
    echo "Updated function $function"
else
    nimbus_aws lambda create-function --function-name "$function" --runtime python3.12 --handler app.handler \
        --role "arn:aws:iam::$account:role/$function" --zip-file "fileb://$work/function.zip" --timeout 30 \
        --query FunctionArn >/dev/null
    echo "Created function $function"
fi
nimbus_aws lambda wait function-active --function-name "$function"
function_arn=$(nimbus_aws lambda get-function-configuration --function-name "$function" --query FunctionArn)

# put-rule creates the rule or replaces its definition (its targets stay).
rule_arn=$(nimbus_aws events put-rule --name "$rule" --schedule-expression "$schedule" --state ENABLED \
    --description "Runs $function on $schedule" --query RuleArn)
echo "Rule $rule runs on $schedule"

# EventBridge may invoke the function for this rule only.
if ! added=$(nimbus_aws lambda add-permission --function-name "$function" --statement-id "events-$rule" \
    --action lambda:InvokeFunction --principal events.amazonaws.com --source-arn "$rule_arn" 2>&1); then
    case "$added" in
        *ResourceConflictException*) ;;  # the statement exists from an earlier run
        *) echo "$added" >&2; exit 1 ;;
    esac
fi

failed=$(nimbus_aws events put-targets --rule "$rule" --targets "Id=$function,Arn=$function_arn" \
    --query FailedEntryCount)
[ "$failed" = 0 ] || { echo "error: put-targets failed for $failed target(s)" >&2; exit 1; }
echo "Rule $rule targets $function"

cat <<EOT

$function now runs on $schedule (the first run within a minute). Watch its reports:
  aws --endpoint-url $endpoint logs tail /aws/lambda/$function --follow
Pause and resume it:
  aws --endpoint-url $endpoint events disable-rule --name $rule
  aws --endpoint-url $endpoint events enable-rule --name $rule
EOT
