/**
 * @tkbridge/store-sql — tkbridge's durable state on SQLite (embedded) and PostgreSQL (scale-out).
 *
 * @since 0.1.0
 */

/** Opening the store and running migrations. */
export * as SqlStore from "./SqlStore.ts"
/** Fresh real databases for tests (SQLite temp file, PostgreSQL temp database). */
export * as SqlTesting from "./SqlTesting.ts"
