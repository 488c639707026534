-- Prepares etawatch's PostgreSQL database. Idempotent: run it again after every upgrade.
--
--   role                 schema it owns   may also
--   etawatch_ledger      ledger           -                 the event store: its only writer
--   etawatch_reader      -                read the ledger's the query API's view of the store
--   etawatch_query_api   query_api        -                 its projections, tracking, API keys
--   etawatch_notifier    notifier         -                 its send log and pending changes
--
-- Each role's search_path is its own schema (the reader's: ledger): unqualified tables land
-- there. eventsourcing qualifies its tables with POSTGRES_SCHEMA, "public" when that is not set,
-- so the three writing roles may also create tables in public; every table stays its creator's,
-- and no role can write a table it does not own. The reader may read every table the ledger's
-- role creates, in any schema, and nothing else; it creates nothing and writes nothing. No role
-- may create roles or databases.
--
-- Run with psql (15 or newer) as a role that may create roles. Passwords are read from the
-- environment, never written here: ETAWATCH_LEDGER_DB_PASSWORD, ETAWATCH_READER_DB_PASSWORD,
-- ETAWATCH_QUERY_API_DB_PASSWORD, ETAWATCH_NOTIFIER_DB_PASSWORD. The role names can be changed
-- with ETAWATCH_LEDGER_DB_ROLE, ETAWATCH_READER_DB_ROLE, ETAWATCH_QUERY_API_DB_ROLE and
-- ETAWATCH_NOTIFIER_DB_ROLE.

\set ON_ERROR_STOP on
\set QUIET on

-- Defaults first: \getenv leaves a variable alone when its environment variable is not set.
\set ledger_role etawatch_ledger
\set reader_role etawatch_reader
\set query_role etawatch_query_api
\set notifier_role etawatch_notifier
\set ledger_password ''
\set reader_password ''
\set query_password ''
\set notifier_password ''
\getenv ledger_role ETAWATCH_LEDGER_DB_ROLE
\getenv reader_role ETAWATCH_READER_DB_ROLE
\getenv query_role ETAWATCH_QUERY_API_DB_ROLE
\getenv notifier_role ETAWATCH_NOTIFIER_DB_ROLE
\getenv ledger_password ETAWATCH_LEDGER_DB_PASSWORD
\getenv reader_password ETAWATCH_READER_DB_PASSWORD
\getenv query_password ETAWATCH_QUERY_API_DB_PASSWORD
\getenv notifier_password ETAWATCH_NOTIFIER_DB_PASSWORD

-- Every password must be given before anything is changed.
SELECT string_agg(variable, ', ') AS missing_passwords
FROM (VALUES ('ETAWATCH_LEDGER_DB_PASSWORD', :'ledger_password'),
             ('ETAWATCH_READER_DB_PASSWORD', :'reader_password'),
             ('ETAWATCH_QUERY_API_DB_PASSWORD', :'query_password'),
             ('ETAWATCH_NOTIFIER_DB_PASSWORD', :'notifier_password')) AS given(variable, value)
WHERE value = '' \gset
\if :{?missing_passwords}
SELECT set_config('etawatch.missing', :'missing_passwords', false) \g /dev/null
DO $$ BEGIN RAISE EXCEPTION 'not set: %', current_setting('etawatch.missing'); END $$;
\endif

BEGIN;
SET LOCAL client_min_messages = warning;

-- Roles: created once; their passwords and limits set on every run.
SELECT format('CREATE ROLE %I', name)
FROM unnest(ARRAY[:'ledger_role', :'reader_role', :'query_role', :'notifier_role']) AS name
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = name) \gexec

ALTER ROLE :"ledger_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS PASSWORD :'ledger_password';
ALTER ROLE :"reader_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS PASSWORD :'reader_password';
ALTER ROLE :"query_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS PASSWORD :'query_password';
ALTER ROLE :"notifier_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    NOBYPASSRLS PASSWORD :'notifier_password';

-- In public, only the writing roles create (their own) tables.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT CREATE ON SCHEMA public TO %I, %I, %I',
              :'ledger_role', :'query_role', :'notifier_role') \gexec

-- The connecting role must be a member of a role to hand it a schema.
SELECT format('GRANT %I TO current_user', name)
FROM unnest(ARRAY[:'ledger_role', :'query_role', :'notifier_role']) AS name
WHERE NOT pg_has_role(current_user, name, 'MEMBER') \gexec

CREATE SCHEMA IF NOT EXISTS ledger AUTHORIZATION :"ledger_role";
CREATE SCHEMA IF NOT EXISTS query_api AUTHORIZATION :"query_role";
CREATE SCHEMA IF NOT EXISTS notifier AUTHORIZATION :"notifier_role";
ALTER SCHEMA ledger OWNER TO :"ledger_role";
ALTER SCHEMA query_api OWNER TO :"query_role";
ALTER SCHEMA notifier OWNER TO :"notifier_role";

SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I, %I, %I', current_database(),
              :'ledger_role', :'reader_role', :'query_role', :'notifier_role') \gexec

-- The reader reads the event store: every table the ledger's role owns now, in any schema, and
-- every one it creates later; nothing else.
GRANT USAGE ON SCHEMA ledger TO :"reader_role";
SELECT format('GRANT SELECT ON %s TO %I', c.oid::regclass, :'reader_role')
FROM pg_class AS c JOIN pg_roles AS r ON r.oid = c.relowner
WHERE r.rolname = :'ledger_role' AND c.relkind IN ('r', 'p', 'v', 'm', 'S') \gexec
ALTER DEFAULT PRIVILEGES FOR ROLE :"ledger_role" GRANT SELECT ON TABLES TO :"reader_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"ledger_role" GRANT SELECT ON SEQUENCES TO :"reader_role";

ALTER ROLE :"ledger_role" SET search_path = ledger;
ALTER ROLE :"reader_role" SET search_path = ledger;
ALTER ROLE :"query_role" SET search_path = query_api;
ALTER ROLE :"notifier_role" SET search_path = notifier;
-- The reader never writes, even where a grant would slip through.
ALTER ROLE :"reader_role" SET default_transaction_read_only = on;

COMMIT;

\echo etawatch database prepared
