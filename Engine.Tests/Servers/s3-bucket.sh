#!/usr/bin/env bash
# Creates an S3 bucket on the test gateway with a signed request (no AWS CLI needed). Existing buckets are fine.
# Usage: s3-bucket.sh ENDPOINT BUCKET   (credentials test/testsecret)
set -euo pipefail
code=$(curl -s -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:us-east-1:s3" --user "test:testsecret" \
  -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" -X PUT "$1/$2")
case "$code" in
  200|409) ;;
  *) echo "s3-bucket: creating bucket $2 at $1 answered HTTP $code" >&2; exit 1 ;;
esac
