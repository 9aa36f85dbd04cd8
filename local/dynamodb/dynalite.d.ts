/** dynalite ships no types: the part of its API local/dynamodb uses. */
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    /** LevelDB directory; in memory when absent. */
    path?: string;
    /** How long a new table stays CREATING (default 500 ms). */
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    maxItemSizeKb?: number;
    verbose?: boolean;
    debug?: boolean;
  }

  /** An http.Server (not listening yet) whose close() also closes the store. */
  function dynalite(options?: DynaliteOptions): Server;
  export = dynalite;
}
