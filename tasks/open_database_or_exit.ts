/**
 * What the task scripts share: open the workshop's database, or explain in
 * one line why not and exit, with no stack trace.
 *
 * @module
 */
import { type Database, openDatabase } from "../lib/database.ts";

/** `openDatabase()`, exiting with status 1 and the error's message when it fails. */
export async function openDatabaseOrExit(): Promise<Database> {
  try {
    return await openDatabase();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
