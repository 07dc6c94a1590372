/**
 * A TCP proxy on 127.0.0.1 for fault tests: what a client sees of a server
 * that goes down (every connection dropped, new ones refused) and comes back
 * on the same address, without touching the real server other tests share.
 *
 * @module
 */

/** A running proxy. */
export interface TcpProxy extends AsyncDisposable {
  /** The port clients connect to. */
  readonly port: number;
  /** Drops every open connection and stops listening: connects are refused until `up()`. */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): void;
  /** Stops everything. */
  close(): Promise<void>;
}

/** Forwards 127.0.0.1:<port> to `target`. */
export function startTcpProxy(target: { hostname: string; port: number }): TcpProxy {
  let listener: Deno.Listener | undefined;
  let accepting: Promise<void> | undefined;
  const open = new Set<Deno.Conn>();
  const pipes = new Set<Promise<void>>();
  let port = 0;

  const pipe = async (client: Deno.Conn) => {
    let server: Deno.Conn;
    try {
      server = await Deno.connect(target);
    } catch {
      client.close();
      return;
    }
    open.add(client).add(server);
    const forward = (from: Deno.Conn, to: Deno.Conn) => from.readable.pipeTo(to.writable).catch(() => {});
    await Promise.all([forward(client, server), forward(server, client)]);
    for (const conn of [client, server]) {
      open.delete(conn);
      try {
        conn.close();
      } catch {
        // already closed by the other direction
      }
    }
  };

  const up = () => {
    listener = Deno.listen({ hostname: "127.0.0.1", port });
    port = (listener.addr as Deno.NetAddr).port;
    const current = listener;
    accepting = (async () => {
      try {
        for await (const client of current) {
          const piped = pipe(client);
          pipes.add(piped);
          piped.finally(() => pipes.delete(piped));
        }
      } catch {
        // closed by down()
      }
    })();
  };

  const down = async () => {
    listener?.close();
    listener = undefined;
    await accepting;
    for (const conn of open) {
      try {
        conn.close();
      } catch {
        // closed meanwhile
      }
    }
    await Promise.all(pipes);
  };

  up();
  return {
    get port() {
      return port;
    },
    down,
    up,
    close: down,
    [Symbol.asyncDispose]: down,
  };
}
