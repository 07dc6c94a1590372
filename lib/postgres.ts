/**
 * What every Postgres client in Leak Lab needs and nothing more: reading a
 * connection URL, naming why a connection failed (password hidden), a
 * SQLSTATE, and one checked connection. No server comes with it: the pool
 * imports this door, so a service that installs the package never loads the
 * embedded PostgreSQL the workshop uses (that lives behind `database.ts`).
 *
 * @module
 */
export { checkConnection, connectClient, type ConnectOptions } from "./postgres/connect.ts";
export {
  type ConnectionFailure,
  type ConnectionTarget,
  connectionTarget,
  DatabaseConnectionError,
  describeConnectionError,
  parsePostgresUrl,
} from "./postgres/connection_errors.ts";
export { sqlstate } from "./postgres/sqlstate.ts";
