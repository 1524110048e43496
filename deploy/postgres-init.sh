#!/bin/sh
# First start of the compose PostgreSQL: one role and one database per service,
# each role allowed to connect to its own database only.
set -eu
create() {
  name="daira_$1"; password="$2"
  psql -v ON_ERROR_STOP=1 -U postgres <<SQL
CREATE ROLE $name LOGIN PASSWORD '$password';
CREATE DATABASE $name OWNER $name;
REVOKE CONNECT ON DATABASE $name FROM PUBLIC;
SQL
}
create users "$DAIRA_USERS_DB_PASSWORD"
create content "$DAIRA_CONTENT_DB_PASSWORD"
create social "$DAIRA_SOCIAL_DB_PASSWORD"
create payments "$DAIRA_PAYMENTS_DB_PASSWORD"
create moderation "$DAIRA_MODERATION_DB_PASSWORD"
