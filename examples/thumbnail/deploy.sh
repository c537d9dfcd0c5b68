#!/usr/bin/env bash
# Deploys the thumbnail pipeline to a Nimbus server with the AWS CLI only: the buckets "photos" (uploads) and
# "thumbnails" (results), the function "thumbnail" from the zip build.sh made, the permission that lets S3 invoke it,
# and the notification of every object created in "photos". Running it again updates the function's code.
#
#   examples/thumbnail/build.sh && examples/thumbnail/deploy.sh
#
# Environment: NIMBUS_ENDPOINT (default http://127.0.0.1:9000), AWS_REGION (default us-east-1),
# AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (default test/test; with --auth sigv4 use the key `nimbus serve` prints),
# PHOTOS_BUCKET (photos), THUMBNAILS_BUCKET (thumbnails), FUNCTION_NAME (thumbnail), ZIP (the build's function.zip).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
endpoint=${NIMBUS_ENDPOINT:-http://127.0.0.1:9000}
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-us-east-1}}
photos=${PHOTOS_BUCKET:-photos}
thumbnails=${THUMBNAILS_BUCKET:-thumbnails}
function=${FUNCTION_NAME:-thumbnail}
zip=${ZIP:-$here/function.zip}
export AWS_ACCESS_KEY_ID=${AWS_ACCESS_KEY_ID:-test} AWS_SECRET_ACCESS_KEY=${AWS_SECRET_ACCESS_KEY:-test} AWS_PAGER=""
command -v aws >/dev/null 2>&1 || { echo "error: the AWS CLI is not installed (Debian: apt-get install awscli)" >&2; exit 2; }
[ -f "$zip" ] || { echo "error: $zip does not exist: run $here/build.sh first" >&2; exit 2; }
[ "$photos" != "$thumbnails" ] || { echo "error: the thumbnails must go to another bucket than the photos" >&2; exit 2; }
nimbus_aws() { aws --endpoint-url "$endpoint" --region "$region" --output text "$@"; }

account=$(nimbus_aws sts get-caller-identity --query Account)

for bucket in "$photos" "$thumbnails"; do
    if nimbus_aws s3api head-bucket --bucket "$bucket" >/dev/null 2>&1; then
        echo "Bucket $bucket exists"
    elif [ "$region" = us-east-1 ]; then
        nimbus_aws s3api create-bucket --bucket "$bucket" >/dev/null && echo "Created bucket $bucket"
    else
        nimbus_aws s3api create-bucket --bucket "$bucket" \
            --create-bucket-configuration "LocationConstraint=$region" >/dev/null && echo "Created bucket $bucket"
    fi
done

if nimbus_aws lambda get-function --function-name "$function" --query Configuration.FunctionArn >/dev/null 2>&1; then
    nimbus_aws lambda update-function-code --function-name "$function" --zip-file "fileb://$zip" \
        --query FunctionArn >/dev/null
    nimbus_aws lambda wait function-updated --function-name "$function"
    nimbus_aws lambda update-function-configuration --function-name "$function" \
        --environment "Variables={THUMBNAIL_BUCKET=$thumbnails}" --query FunctionArn >/dev/null
    echo "Updated function $function"
else
    nimbus_aws lambda create-function --function-name "$function" --runtime python3.12 --handler handler.handler \
        --role "arn:aws:iam::$account:role/$function" --zip-file "fileb://$zip" --timeout 30 --memory-size 512 \
        --environment "Variables={THUMBNAIL_BUCKET=$thumbnails}" --query FunctionArn >/dev/null
    echo "Created function $function"
fi
nimbus_aws lambda wait function-active --function-name "$function"
function_arn=$(nimbus_aws lambda get-function-configuration --function-name "$function" --query FunctionArn)

# S3 may invoke the function only for this bucket of this account (as on AWS, S3 checks this when the notification
# is configured: without it put-bucket-notification-configuration fails with InvalidArgument).
if ! added=$(nimbus_aws lambda add-permission --function-name "$function" --statement-id "s3-$photos" \
    --action lambda:InvokeFunction --principal s3.amazonaws.com --source-arn "arn:aws:s3:::$photos" \
    --source-account "$account" 2>&1); then
    case "$added" in
        *ResourceConflictException*) ;;  # the statement exists from an earlier run
        *) echo "$added" >&2; exit 1 ;;
    esac
fi

notification=$(printf '{"LambdaFunctionConfigurations":[{"Id":"thumbnails","LambdaFunctionArn":"%s","Events":["s3:ObjectCreated:*"]}]}' \
    "$function_arn")
nimbus_aws s3api put-bucket-notification-configuration --bucket "$photos" --notification-configuration "$notification"
echo "Objects created in s3://$photos now invoke $function"

cat <<EOT

Upload a photo; its thumbnail (at most 128 x 128) appears in s3://$thumbnails under the same name:
  aws --endpoint-url $endpoint s3 cp $here/photo.jpg s3://$photos/
  aws --endpoint-url $endpoint s3 ls s3://$thumbnails/
  aws --endpoint-url $endpoint s3 cp s3://$thumbnails/photo.jpg thumbnail.jpg
Watch the function:
  aws --endpoint-url $endpoint logs tail /aws/lambda/$function --follow
EOT
