#!/usr/bin/env bash
# Deploys examples/http-api to a Nimbus server behind an API Gateway HTTP API, with the AWS CLI only:
# creates (or updates) the function, creates the API with one route per operation (all to the function, through an
# AWS_PROXY integration) and an auto-deploying $default stage, allows API Gateway to invoke the function, and prints
# the API's URL and curl commands. Running it again updates the code and keeps the API.
#
#   examples/http-api/deploy.sh
#
# Environment: NIMBUS_ENDPOINT (default http://127.0.0.1:9000), FUNCTION_NAME (default items-api, also the API's
# name), AWS_REGION (default us-east-1), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default test/test, which a server
# started with the default --auth none accepts; with --auth sigv4 use the key `nimbus serve` prints).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
endpoint=${NIMBUS_ENDPOINT:-http://127.0.0.1:9000}
name=${FUNCTION_NAME:-items-api}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test}
export AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test}
export AWS_PAGER=""

if ! command -v aws >/dev/null 2>&1; then
    echo "error: the AWS CLI is not installed (Debian: apt-get install awscli)" >&2
    exit 2
fi

# Every call goes to Nimbus; text output and --query keep the parsing to plain shell.
nimbus_aws() { aws --endpoint-url "$endpoint" --region "$region" --output text "$@"; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 - "$here/app.py" "$work/function.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[2], "w", zipfile.ZIP_DEFLATED) as z:
    z.write(sys.argv[1], "app.py")
PY

account=$(nimbus_aws sts get-caller-identity --query Account)
function_arn="arn:aws:lambda:$region:$account:function:$name"

if nimbus_aws lambda get-function --function-name "$name" --query Configuration.FunctionArn >/dev/null 2>&1; then
    echo "Updating the code of function $name"
    nimbus_aws lambda update-function-code --function-name "$name" --zip-file "fileb://$work/function.zip" \
        --query FunctionArn >/dev/null
else
    echo "Creating function $name"
    nimbus_aws lambda create-function --function-name "$name" --runtime python3.12 --handler app.handler \
        --role "arn:aws:iam::$account:role/lambda-role" --zip-file "fileb://$work/function.zip" \
        --query FunctionArn >/dev/null
fi

api_id=$(nimbus_aws apigatewayv2 get-apis --query "Items[?Name=='$name'].ApiId | [0]")
if [ -z "$api_id" ] || [ "$api_id" = "None" ]; then
    echo "Creating HTTP API $name: routes GET /items, GET /items/{id}, POST /items/{id} and an auto-deploying \$default stage"
    api_id=$(nimbus_aws apigatewayv2 create-api --name "$name" --protocol-type HTTP --query ApiId)
    integration=$(nimbus_aws apigatewayv2 create-integration --api-id "$api_id" --integration-type AWS_PROXY \
        --integration-uri "$function_arn" --payload-format-version 2.0 --query IntegrationId)
    for route in "GET /items" "GET /items/{id}" "POST /items/{id}"; do
        nimbus_aws apigatewayv2 create-route --api-id "$api_id" --route-key "$route" \
            --target "integrations/$integration" --query RouteId >/dev/null
    done
    nimbus_aws apigatewayv2 create-stage --api-id "$api_id" --stage-name '$default' --auto-deploy \
        --query StageName >/dev/null
    # As on AWS, API Gateway may invoke the function only if its resource policy allows it.
    nimbus_aws lambda add-permission --function-name "$name" --statement-id "apigateway-$api_id" \
        --action lambda:InvokeFunction --principal apigateway.amazonaws.com \
        --source-arn "arn:aws:execute-api:$region:$account:$api_id/*" >/dev/null
else
    echo "Keeping HTTP API $name ($api_id)"
fi

url=$(nimbus_aws apigatewayv2 get-api --api-id "$api_id" --query ApiEndpoint)
authority=${url#*://}
host=${authority%:*}
port=${authority##*:}

cat <<EOF

API: $url

Try it:
  curl -s $url/items
  curl -s $url/items/1
  curl -s -X POST $url/items/3 -H 'content-type: application/json' -d '{"name":"lamp"}'

Where $host does not resolve (*.localhost resolves to 127.0.0.1 in browsers and with systemd-resolved, not
everywhere), pin it for curl:
  curl -s --resolve $host:$port:127.0.0.1 $url/items
EOF
