#!/bin/sh
# Nightly backup, run from cron on bastion-01
set -e

STAMP=$(date +%Y%m%d)
PGPASSWORD=N3b_R-CKWQHqIGZ4+hg1 pg_dump -h db.acme.internal -U backup storefront | gzip > /backups/storefront-$STAMP.sql.gz

mysqldump -u backup -p'Hazel8452?nuX' --single-transaction billing | gzip > /backups/billing-$STAMP.sql.gz

AWS_ACCESS_KEY_ID=AKIAZ5OUMQ6ZQVUWCT2E AWS_SECRET_ACCESS_KEY=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 \
  aws s3 cp /backups/ s3://acme-backups/$STAMP/ --recursive

export RESTIC_PASSWORD="pilot meadow harbor lava eagle3"
export RESTIC_REPOSITORY=s3:s3.amazonaws.com/acme-restic
restic backup /srv/uploads

curl -s -u backup-bot:7zkjOs2rDy_f-fv!PjBk https://hc.acme.io/ping/nightly-backup
# sha256sum of the last good archive: c5974e200e0c9c1e4174f0e1160cb0532462b1aff0132a1dcc2c10beadb05533
