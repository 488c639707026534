-- Prepares etawatch's PostgreSQL database. Idempotent: run it again after every upgrade.
--
-- * schema "ledger", owned by the ledger's role: the event store, its only writer;
-- * schema "query_api", owned by the query API's role: its projections and tracking records;
--   that role may read the ledger's schema, never write it;
-- * neither role can create anything in "public", nor roles, nor databases.
--
-- Run with psql (15 or newer) as a role that may create roles. Passwords are read from the
-- environment, never written here:
--   ETAWATCH_LEDGER_DB_PASSWORD, ETAWATCH_QUERY_API_DB_PASSWORD
-- Role names may be changed with ETAWATCH_LEDGER_DB_ROLE and ETAWATCH_QUERY_API_DB_ROLE
-- (defaults: etawatch_ledger, etawatch_query_api).

\set ON_ERROR_STOP on
\set QUIET on

\getenv ledger_password ETAWATCH_LEDGER_DB_PASSWORD
\getenv query_password ETAWATCH_QUERY_API_DB_PASSWORD
\getenv ledger_role ETAWATCH_LEDGER_DB_ROLE
\getenv query_role ETAWATCH_QUERY_API_DB_ROLE

\if :{?ledger_role}
\else
\set ledger_role etawatch_ledger
\endif
\if :{?query_role}
\else
\set query_role etawatch_query_api
\endif
\if :{?ledger_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'ETAWATCH_LEDGER_DB_PASSWORD is not set'; END $$;
\endif
\if :{?query_password}
\else
DO $$ BEGIN RAISE EXCEPTION 'ETAWATCH_QUERY_API_DB_PASSWORD is not set'; END $$;
\endif

BEGIN;
SET LOCAL client_min_messages = warning;

-- Roles: created once, their passwords and limits set on every run.
SELECT format('CREATE ROLE %I', :'ledger_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'ledger_role') \gexec
SELECT format('CREATE ROLE %I', :'query_role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'query_role') \gexec

ALTER ROLE :"ledger_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'ledger_password';
ALTER ROLE :"query_role" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'query_password';

-- Nobody but the owner creates objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- The connecting role must be able to hand schemas to the service roles.
SELECT format('GRANT %I TO current_user', :'ledger_role')
WHERE NOT pg_has_role(current_user, :'ledger_role', 'MEMBER') \gexec
SELECT format('GRANT %I TO current_user', :'query_role')
WHERE NOT pg_has_role(current_user, :'query_role', 'MEMBER') \gexec

CREATE SCHEMA IF NOT EXISTS ledger AUTHORIZATION :"ledger_role";
CREATE SCHEMA IF NOT EXISTS query_api AUTHORIZATION :"query_role";
ALTER SCHEMA ledger OWNER TO :"ledger_role";
ALTER SCHEMA query_api OWNER TO :"query_role";

SELECT format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I, %I',
              current_database(), :'ledger_role', :'query_role') \gexec

-- The query API reads the event store, now and every table the ledger creates later.
GRANT USAGE ON SCHEMA ledger TO :"query_role";
GRANT SELECT ON ALL TABLES IN SCHEMA ledger TO :"query_role";
GRANT SELECT ON ALL SEQUENCES IN SCHEMA ledger TO :"query_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"ledger_role" IN SCHEMA ledger
    GRANT SELECT ON TABLES TO :"query_role";
ALTER DEFAULT PRIVILEGES FOR ROLE :"ledger_role" IN SCHEMA ledger
    GRANT SELECT ON SEQUENCES TO :"query_role";

-- Each service finds its own tables without qualifying them.
ALTER ROLE :"ledger_role" SET search_path = ledger;
ALTER ROLE :"query_role" SET search_path = query_api, ledger;

COMMIT;

\echo etawatch database prepared
